"""On-device adaptation experiments on SmolLM2-135M-Instruct, CPU, one thread. Each subcommand
writes its table to bench/results/adapt_<name>.{json,md}:

  params  trainable parameters of LoRA and DiffuseKronA adapters
  deft    density before/after DEFT, held-out loss, sparse-MLP and decode-step speed vs dense

Speeds are ratios against the dense model timed in the same process, interleaved.
Run: OMP_NUM_THREADS=1 nice -n 10 python bench/bench_adapt.py deft
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from perception.llm.adapt import deft, text
from perception.llm.adapt.adapters import ATTENTION, MLP, AdapterOptions, attach, parameter_row
from perception.llm.causal_lm import load_causal_lm

RESULTS = Path(__file__).resolve().parent / "results"
MODEL = "smollm2-135m-instruct"
QUESTIONS = ("Where is the charging station?", "What can a delivery robot do?")


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def write(name: str, rows: list[dict], notes: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"adapt_{name}.json").write_text(json.dumps({"rows": rows, **notes}, indent=1))
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    lines += [f"\n{k}: {v}" for k, v in notes.items()]
    (RESULTS / f"adapt_{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def params(_: argparse.Namespace) -> None:
    variants = [
        ("LoRA r8 attention", AdapterOptions(rank=8, targets=ATTENTION)),
        ("LoRA r8 attention+MLP", AdapterOptions(rank=8)),
        ("LoRA r16 attention+MLP", AdapterOptions(rank=16, alpha=32)),
        ("Kron a=8 attention", AdapterOptions(kind="kron", kron_factor=8, targets=ATTENTION)),
        ("Kron a=16 attention+MLP", AdapterOptions(kind="kron", kron_factor=16)),
        ("Kron a=32 attention+MLP", AdapterOptions(kind="kron", kron_factor=32)),
        ("Kron a=64 attention+MLP", AdapterOptions(kind="kron", kron_factor=64)),
    ]
    rows = []
    for name, options in variants:
        row = parameter_row(name, attach(load_causal_lm(MODEL).model, options))
        rows.append(row.__dict__)
    write("params", rows, {"model": MODEL, "targets MLP": MLP})


def _timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _ratio(dense_fn, sparse_fn, rounds: int, repeats: int) -> dict:
    """Median seconds of each, interleaved in ``rounds`` to share the machine's load fairly."""
    dense, sparse = [], []
    for _ in range(rounds):
        dense += _timed(dense_fn, repeats)
        sparse += _timed(sparse_fn, repeats)
    d, s = statistics.median(dense), statistics.median(sparse)
    return {"dense_ms": round(d * 1e3, 3), "sparse_ms": round(s * 1e3, 3), "speedup": d / s}


def _mlp_inputs(model, tokenizer, prompt: str, steps: int) -> list[torch.Tensor]:
    """Inputs (1, 1, d) of layer 15's MLP during greedy decoding of ``prompt``."""
    seen: list[torch.Tensor] = []
    mlp = model.model.layers[15].mlp
    handle = mlp.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    model.generate(ids, max_new_tokens=steps, do_sample=False)
    handle.remove()
    return [x for x in seen if x.shape[1] == 1]


def speed(model, tokenizer, tau: float, prompts: list[str]) -> dict:
    """MLP and whole decode-step speed of the sparse model vs ``model`` (dense), and how many
    greedy tokens they share."""
    sparse_model = copy.deepcopy(model)
    deft.sparsify(sparse_model, tau)
    xs = _mlp_inputs(model, tokenizer, prompts[0], 16)
    dense_mlp, sparse_mlp = model.model.layers[15].mlp, sparse_model.model.layers[15].mlp
    with torch.no_grad():
        mlp = _ratio(lambda: [dense_mlp(x) for x in xs], lambda: [sparse_mlp(x) for x in xs], 5, 5)
    new, same, total = 24, 0, 0
    for p in prompts:
        ids = tokenizer(p, return_tensors="pt").input_ids
        a = model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False)
        b = sparse_model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False)
        same += int((a[0, ids.shape[1] :] == b[0, ids.shape[1] :]).sum())
        total += new
    ids = tokenizer(prompts[0], return_tensors="pt").input_ids

    def gen(m):
        return lambda: m.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False)

    step = _ratio(gen(model), gen(sparse_model), 3, 2)
    return {
        "mlp_speedup": round(mlp["speedup"], 3),
        "mlp_dense_ms_per_16_tokens": mlp["dense_ms"],
        "decode_speedup": round(step["speedup"], 3),
        "decode_dense_ms_per_token": round(step["dense_ms"] / new, 2),
        "greedy_tokens_same": round(same / total, 3),
    }


def choose_tau(model, dev: list, grid: tuple[float, ...], floor: float) -> tuple[float, list]:
    """The largest tau whose zeroing keeps top-1 next-token agreement >= ``floor`` on dev."""
    table = [(t, deft.top1_agreement(model, dev, t)) for t in grid]
    log("tau agreement", table)
    ok = [t for t, agree in table if agree >= floor]
    return (max(ok) if ok else min(grid)), table


def run_deft(args: argparse.Namespace) -> None:
    splits = text.speech_text_splits(0)
    base = load_causal_lm(MODEL)
    tok = base.tokenizer
    train = text.batches(tok, splits["train"], 8)
    dev = text.batches(tok, splits["dev"], 16)
    tau, tau_table = choose_tau(base.model, dev, (0.005, 0.01, 0.02, 0.03, 0.05, 0.1), 0.99)
    prompts = [f"<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n" for q in QUESTIONS]
    rows = [_row("base (no adapter)", base.model, dev, tau, None)]
    rows[-1].update(speed(base.model, tok, tau, prompts))
    for weight in args.weights:
        options = deft.DeftOptions(eps=args.eps, weight=weight, tau=tau)
        model = attach(load_causal_lm(MODEL).model, AdapterOptions(rank=8))
        start = time.perf_counter()
        stats = deft.train(model, train, options, args.steps, lr=args.lr)
        log(f"weight {weight}: {args.steps} steps in {time.perf_counter() - start:.0f} s")
        merged = model.merge_and_unload()
        name = "LoRA r8, density weight 0" if weight == 0 else f"DEFT LoRA r8, weight {weight}"
        rows.append(_row(name, merged, dev, tau, stats))
        rows[-1].update(speed(merged, tok, tau, prompts))
        if weight > 0 and args.save:
            merged.save_pretrained(args.save)  # a merged model folder (large); see the README
    notes = {
        "tau": tau,
        "tau_choice": "largest tau in the grid with top-1 agreement >= 0.99 on dev (base model)",
        "tau_table": tau_table,
        "eps": args.eps,
        "steps": args.steps,
        "lr": args.lr,
        "train_sentences": len(splits["train"]),
        "dev_sentences": len(splits["dev"]),
    }
    write("deft", rows, notes)


def _row(name: str, model, dev: list, tau: float, stats) -> dict:
    row = {
        "model": name,
        "dev_loss": round(text.mean_loss(model, dev), 4),
        "density": round(deft.measure_density(model, dev, tau), 4),
        "top1_same_sparse": round(deft.top1_agreement(model, dev, tau), 4),
    }
    if stats is not None:
        row["train_loss_last20"] = round(statistics.mean(stats.task_loss[-20:]), 4)
    log(row)
    return row


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("params").set_defaults(run=params)
    d = sub.add_parser("deft")
    d.add_argument("--steps", type=int, default=120)
    d.add_argument("--lr", type=float, default=1e-3)
    d.add_argument("--eps", type=float, default=1e-2)
    d.add_argument("--weights", type=float, nargs="+", default=[0.0, 1.0])
    d.add_argument("--save", type=Path, help="folder for the DEFT model (merged)")
    d.set_defaults(run=run_deft)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
