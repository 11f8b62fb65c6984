"""On-device adaptation experiments on SmolLM2-135M-Instruct, CPU, one thread. Each subcommand
writes its table to bench/results/adapt_<name>.{json,md}:

  params  trainable parameters of LoRA and DiffuseKronA adapters
  deft    density before/after DEFT, held-out loss, sparse-MLP and decode-step speed vs dense
  sparse  the sparse MLP's speed vs density on the base model as tau grows (where it pays)
  zo      peak memory (RSS) of each zeroth-order method and of first-order Adam as a ratio to
          inference of the same model and batch (one fresh process each), and dev loss after
          the same number of steps on the same LoRA adapter
  prune   MLP neuron magnitude pruning 0-50 %: dev loss, few-shot accuracy, MLP speed, with and
          without a short LoRA recovery fine-tune
  tt      TT-SVD of every up_proj at several rank budgets: parameters, error, dev loss, few-shot
  ger-kron   a DiffuseKronA (LoKr) GER adapter trained like smollm2-ger-lora (same pairs and
          prompt), its parameters and dev GER WER beside the LoRA adapter's
  prune-ger  the same pruning on the GER-tuned LLM (base + smollm2-ger-lora merged): GER's dev
          WER on the speech dev split's N-best, with and without a short recovery fine-tune on
          the GER training pairs

Speeds are ratios against the dense model timed in the same process, interleaved.
Run: OMP_NUM_THREADS=1 nice -n 10 python bench/bench_adapt.py deft
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from perception.llm import lora
from perception.llm.adapt import deft, text
from perception.llm.adapt.adapters import ATTENTION, MLP, AdapterOptions, attach, parameter_row
from perception.llm.adapt.prune import prune_mlp_neurons
from perception.llm.adapt.tt import relative_error, tt_svd
from perception.llm.adapt.zo import METHODS, ZeroOrder, ZoOptions
from perception.llm.causal_lm import CausalLM, load_causal_lm

RESULTS = Path(__file__).resolve().parent / "results"
MODEL = "smollm2-135m-instruct"
QUESTIONS = ("Where is the charging station?", "What can a delivery robot do?")
PROMPTS = tuple(f"<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n" for q in QUESTIONS)


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def write(name: str, rows: list[dict], notes: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"adapt_{name}.json").write_text(json.dumps({"rows": rows, **notes}, indent=1))
    keys = list(dict.fromkeys(k for r in rows for k in r))  # every column, first-seen order
    lines = ["| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "-")) for k in keys) + " |" for r in rows]
    lines += [f"\n{k}: {v}" for k, v in notes.items()]
    (RESULTS / f"adapt_{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def params(args: argparse.Namespace) -> None:
    variants = [
        ("LoRA r8 attention", AdapterOptions(rank=8, targets=ATTENTION)),
        ("LoRA r8 attention+MLP", AdapterOptions(rank=8)),
        ("LoRA r16 attention+MLP", AdapterOptions(rank=16, alpha=32)),
        ("Kron a=8 attention", AdapterOptions(kind="kron", kron_factor=8, targets=ATTENTION)),
        ("Kron a=16 attention+MLP", AdapterOptions(kind="kron", kron_factor=16)),
        ("Kron a=32 attention+MLP", AdapterOptions(kind="kron", kron_factor=32)),
        ("Kron a=64 attention+MLP", AdapterOptions(kind="kron", kron_factor=64)),
    ]
    splits = text.speech_text_splits(0)
    rows = []
    for name, options in variants:
        lm = load_causal_lm(MODEL)
        wrapped = attach(lm.model, options)
        row = parameter_row(name, wrapped).__dict__
        if args.train_steps and name in args.train:
            train = text.batches(lm.tokenizer, splits["train"], 8)
            dev = text.batches(lm.tokenizer, splits["dev"], 16)
            deft.train(wrapped, train, deft.DeftOptions(weight=0.0), args.train_steps, lr=1e-3)
            row["dev_loss_trained"] = round(text.mean_loss(wrapped, dev), 4)
        rows.append(row)
        log(row)
    notes = {
        "model": MODEL,
        "targets MLP": MLP,
        "trained": f"{args.train_steps} steps of 8 train sentences, AdamW 1e-3 (base dev loss "
        "4.6784); rows without a value were not trained",
    }
    write("params", rows, notes)


def _timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _ratio(dense_fn, sparse_fn, rounds: int, repeats: int) -> dict:
    """Fastest seconds of each over ``rounds`` interleaved rounds. This machine is shared: other
    processes only ever add time, and medians moved by 5x between runs, so the minimum is the
    least disturbed estimate of each one's own cost."""
    dense, sparse = [], []
    for _ in range(rounds):
        dense += _timed(dense_fn, repeats)
        sparse += _timed(sparse_fn, repeats)
    d, s = min(dense), min(sparse)
    return {"dense_ms": round(d * 1e3, 3), "sparse_ms": round(s * 1e3, 3), "speedup": d / s}


def _mlp_inputs(model, tokenizer, prompt: str, steps: int) -> list[torch.Tensor]:
    """Inputs (1, 1, d) of layer 15's MLP during greedy decoding of ``prompt``."""
    seen: list[torch.Tensor] = []
    mlp = model.model.layers[15].mlp
    handle = mlp.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    model.generate(ids, max_new_tokens=steps, min_new_tokens=steps, do_sample=False)
    handle.remove()
    decoding = [x for x in seen if x.shape[1] == 1]
    assert len(decoding) == steps - 1, f"expected {steps - 1} decoding steps, got {len(decoding)}"
    return decoding


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


def run_sparse_curve(args: argparse.Namespace) -> None:
    lm = load_causal_lm(MODEL)
    dev = text.batches(lm.tokenizer, text.speech_text_splits(0)["dev"], 16)
    xs = _mlp_inputs(lm.model, lm.tokenizer, PROMPTS[0], 16)
    dense = lm.model.model.layers[15].mlp
    rows = []
    for tau in args.taus:
        sparse = deft.SparseMLP(dense, tau)
        with torch.no_grad():
            active = [
                float((torch.nn.functional.silu(x @ sparse.gate.t()).abs() > tau).float().mean())
                for x in xs
            ]
            r = _ratio(lambda: [dense(x) for x in xs], lambda s=sparse: [s(x) for x in xs], 7, 5)
        rows.append(
            {
                "tau": tau,
                "dev_density_all_layers": round(deft.measure_density(lm.model, dev, tau), 4),
                "layer15_decode_density": round(statistics.mean(active), 4),
                "top1_same_as_dense": round(deft.top1_agreement(lm.model, dev, tau), 4),
                "mlp_speedup": round(r["speedup"], 3),
            }
        )
        log(rows[-1])
    write("sparse", rows, {"model": MODEL, "mlp": "layer 15, 16 decoding tokens, one thread"})


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
    prompts = list(PROMPTS)
    rows = [_row("base (no adapter)", base.model, dev, tau, None)]
    rows[-1].update(speed(base.model, tok, tau, prompts))
    for weight, eps in (map(float, c.split(":")) for c in args.configs):
        options = deft.DeftOptions(eps=eps, weight=weight, tau=tau)
        model = attach(load_causal_lm(MODEL).model, AdapterOptions(rank=8))
        start = time.perf_counter()
        stats = deft.train(model, train, options, args.steps, lr=args.lr)
        log(
            f"weight {weight} eps {eps}: {args.steps} steps in {time.perf_counter() - start:.0f} s"
        )
        if args.save_dir:  # a peft folder: ServiceOptions(adapter=<folder>, sparse_mlp_tau=tau)
            lora.save(CausalLM(MODEL, model, tok), args.save_dir / f"deft-w{weight:g}-eps{eps:g}")
        merged = model.merge_and_unload()
        name = (
            "LoRA r8 (no density loss)"
            if weight == 0
            else f"DEFT LoRA r8, w {weight:g} eps {eps:g}"
        )
        rows.append(_row(name, merged, dev, tau, stats))
        rows[-1].update(speed(merged, tok, tau, prompts))
    notes = {
        "tau": tau,
        "tau_choice": "largest tau in the grid with top-1 agreement >= 0.99 on dev (base model)",
        "tau_table": tau_table,
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


ZO_LR = {
    "zo-sgd": 1e-4,
    "zo-sign": 1e-5,
    "zo-momentum": 1e-5,
    "zo-adam": 1e-4,
    "forward-grad": 1e-4,
    "fo-adam": 1e-3,
}
RUNS = ("inference", "fo-adam", *METHODS, "zo-sgd-blockwise")


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def _adapted(eager: bool):
    lm = load_causal_lm(MODEL)
    if eager:  # forward-mode AD has no rule for the fused CPU attention kernel
        lm.model.set_attn_implementation("eager")
    return attach(lm.model, AdapterOptions(rank=8, targets=ATTENTION)), lm.tokenizer


def _stepper(run: str, model, batch_of):
    """A function doing one step of ``run`` on the batch ``batch_of()`` gives; returns a loss."""
    params = [p for p in model.parameters() if p.requires_grad]
    if run == "inference":
        return lambda: float(text.mean_loss(model, [batch_of()]))
    if run == "fo-adam":
        opt = torch.optim.Adam(params, lr=ZO_LR[run])

        def fo() -> float:
            loss = text.loss(model, batch_of())
            opt.zero_grad()
            loss.backward()
            opt.step()
            return float(loss.detach())

        return fo
    method = run.removesuffix("-blockwise")
    options = ZoOptions(method=method, lr=ZO_LR[method], blockwise=run.endswith("-blockwise"))
    opt = ZeroOrder(params, options)
    if method != "forward-grad":

        def zo() -> float:
            b = batch_of()  # both perturbed losses on the same batch
            return opt.step(lambda: text.loss(model, b))

        return zo
    names = [n for n, p in model.named_parameters() if p.requires_grad]

    def forward_grad() -> float:
        b = batch_of()
        kwargs = {"input_ids": b.ids, "attention_mask": b.mask, "labels": b.labels}

        def loss(values: tuple[torch.Tensor, ...]) -> torch.Tensor:
            named = dict(zip(names, values, strict=True))
            return torch.func.functional_call(model, named, kwargs=kwargs).loss

        return opt.step(loss)

    return forward_grad


def zo_memory(args: argparse.Namespace) -> None:
    """One run in this (fresh) process: peak RSS of ``args.steps`` steps after loading."""
    model, tok = _adapted(args.which == "forward-grad")
    pool = text.speech_text_splits(0)["train"]
    rows = [" ".join(pool[8 * i : 8 * i + 8]) for i in range(8)]  # 8 rows of about 100 tokens
    batch = text.batches(tok, rows, 8)[0]
    step = _stepper(args.which, model, lambda: batch)
    loaded_kb = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS (VmHWM) restarts from here
    for _ in range(args.steps):
        step()
    peak_kb = _status_kb("VmHWM")
    result = {"run": args.which, "loaded_mb": loaded_kb / 1024, "peak_mb": peak_kb / 1024}
    print(json.dumps(result))


def run_zo(args: argparse.Namespace) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    memory = {}
    for run in RUNS:
        cmd = [sys.executable, __file__, "zo-memory", "--which", run, "--steps", "3"]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        memory[run] = json.loads(out.stdout.strip().splitlines()[-1])
        log(memory[run])
    splits = text.speech_text_splits(0)
    tok = load_causal_lm(MODEL).tokenizer
    train, dev = text.batches(tok, splits["train"], 8), text.batches(tok, splits["dev"], 16)
    rows, base_peak = [], memory["inference"]["peak_mb"]
    for run in RUNS:
        row = {"method": run, "peak_rss_mb": round(memory[run]["peak_mb"], 1)}
        row["peak_vs_inference"] = round(memory[run]["peak_mb"] / base_peak, 3)
        row["extra_mb_over_loaded"] = round(memory[run]["peak_mb"] - memory[run]["loaded_mb"], 1)
        if run != "inference":
            row.update(_train_eval(run, train, dev, args.steps))
        rows.append(row)
        log(row)
    notes = {
        "adapter": "LoRA r8 on q/k/v/o (921,600 parameters)",
        "memory batch": "8 rows of 8 joined train sentences (about 100 tokens each)",
        "training batch": "8 train sentences",
        "memory": "VmHWM after VmRSS reset (clear_refs 5) once the model is loaded, 3 steps",
        "torch allocator": "not reported: torch keeps no peak counter for CPU memory",
        "steps": args.steps,
        "lr": ZO_LR,
    }
    write("zo", rows, notes)


def _train_eval(run: str, train: list, dev: list, steps: int) -> dict:
    model, _ = _adapted(run == "forward-grad")
    torch.manual_seed(0)
    order = torch.randint(len(train), (steps,)).tolist()
    it = iter(order)
    step = _stepper(run, model, lambda: train[next(it)])
    before = text.mean_loss(model, dev)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    return {
        "dev_loss_before": round(before, 4),
        "dev_loss_after": round(text.mean_loss(model, dev), 4),
        "s_per_step": round(seconds / steps, 2),
    }


SHOTS = (
    ("Bring the red cup to the kitchen.", "command"),
    ("The weather is nice today.", "statement"),
    ("Stop next to the front door.", "command"),
    ("My brother works at the hospital.", "statement"),
)


def few_shot_accuracy(model, tok, sentences: list[tuple[str, str]]) -> float:
    """In-context classification: 4 examples, then is each dev sentence a command or a statement?
    Correct when the label's first token gets the higher next-token logit."""
    shots = "".join(f"Sentence: {t}\nType: {label}\n\n" for t, label in SHOTS)
    first = {k: tok.encode(" " + k, add_special_tokens=False)[0] for k in ("command", "statement")}
    right = 0
    with torch.no_grad():
        for sentence, kind in sentences:
            ids = tok(f"{shots}Sentence: {sentence}\nType:", return_tensors="pt").input_ids
            logits = model(input_ids=ids).logits[0, -1]
            guess = (
                "command" if logits[first["command"]] > logits[first["statement"]] else "general"
            )
            right += guess == kind
    return right / len(sentences)


def _dev_labelled() -> list[tuple[str, str]]:
    from perception.speech.dataset import split_sentences

    return list(split_sentences(0)["dev"])


def _mlp_speed(pruned, dense, xs: list[torch.Tensor]) -> float:
    layer_p, layer_d = pruned.model.layers[15].mlp, dense.model.layers[15].mlp
    with torch.no_grad():
        r = _ratio(lambda: [layer_d(x) for x in xs], lambda: [layer_p(x) for x in xs], 5, 5)
    return round(r["speedup"], 3)


def _recover(model, train: list, steps: int):
    wrapped = attach(model, AdapterOptions(rank=8))
    deft.train(wrapped, train, deft.DeftOptions(weight=0.0), steps, lr=1e-3)
    return wrapped.merge_and_unload()


def run_prune(args: argparse.Namespace) -> None:
    splits, labelled = text.speech_text_splits(0), _dev_labelled()
    dense = load_causal_lm(MODEL)
    tok = dense.tokenizer
    train, dev = text.batches(tok, splits["train"], 8), text.batches(tok, splits["dev"], 16)
    xs = _mlp_inputs(dense.model, tok, PROMPTS[0], 16)
    rows = []
    for fraction in args.fractions:
        model = load_causal_lm(MODEL).model
        kept = prune_mlp_neurons(model, fraction)
        row = {
            "pruned": fraction,
            "neurons_kept": kept,
            "mlp_speedup": _mlp_speed(model, dense.model, xs),
        }
        row["dev_loss"] = round(text.mean_loss(model, dev), 4)
        row["few_shot_acc"] = round(few_shot_accuracy(model, tok, labelled), 4)
        if args.recovery_steps and fraction > 0:
            model = _recover(model, train, args.recovery_steps)
            row["dev_loss_recovered"] = round(text.mean_loss(model, dev), 4)
            row["few_shot_acc_recovered"] = round(few_shot_accuracy(model, tok, labelled), 4)
        else:
            row["dev_loss_recovered"] = row["few_shot_acc_recovered"] = "-"
        rows.append(row)
        log(row)
    notes = {
        "score": "||gate row|| · ||up row|| · ||down column||, lowest removed in each layer",
        "recovery": f"LoRA r8 on all projections, AdamW lr 1e-3, {args.recovery_steps} steps",
        "few_shot": "4-shot command/statement labels on the 80 dev sentences (60 commands)",
    }
    write("prune", rows, notes)


def run_prune_ger(args: argparse.Namespace) -> None:
    import dataclasses
    import random

    from perception.llm.adapt import ger

    cfg, speech, dev, examples = _ger_data()
    recovery = dataclasses.replace(cfg.lora, epochs=1, seed=1)
    rows = []
    for fraction in args.fractions:
        lm = load_causal_lm(MODEL, adapter=ger.ADAPTER)
        kept = prune_mlp_neurons(lm.model, fraction)
        row = {"pruned": fraction, "neurons_kept": kept}
        report = ger.ger_wer(lm, dev, speech)
        row["dev_ger_wer"] = round(report["ger_all"], 4)
        if args.recovery_steps and fraction > 0:
            n = args.recovery_steps * recovery.batch_size
            subset = random.Random(fraction).sample(examples, min(n, len(examples)))
            tuned = lora.attach(lm, recovery)
            lora.fine_tune(tuned, subset, recovery)
            merged = CausalLM(lm.name, tuned.model.merge_and_unload().eval(), lm.tokenizer)
            row["dev_ger_wer_recovered"] = round(ger.ger_wer(merged, dev, speech)["ger_all"], 4)
        else:
            row["dev_ger_wer_recovered"] = "-"
        rows.append(row)
        log(row)
    notes = {
        "model": f"{MODEL} + {ger.ADAPTER} (merged), prompt without few-shot examples",
        "wer": f"GER proposals on the {len(dev)} speech dev clips' N-best (no acoustic "
        f"acceptance); AM-only (best hypothesis) {report['am_only_all']:.4f}",
        "recovery": f"LoRA r{recovery.rank} on all projections, lr {recovery.lr}, "
        f"{args.recovery_steps} steps of {recovery.batch_size} GER training pairs",
    }
    write("prune_ger", rows, notes)


def _ger_data():
    import dataclasses

    from perception.config import load_yaml
    from perception.llm.adapt import ger
    from perception.speech.api import SpeechRecognizer
    from perception.speech.dataset import build_dataset, build_train_split

    cfg = load_yaml(ger.GerTuneConfig, Path("configs/llm/ger-lora.yaml"))
    speech = dataclasses.replace(cfg.speech, fusion="none")
    rec = SpeechRecognizer(speech)
    root = cfg.data
    dev = ger.nbest_pairs(rec, root, build_dataset(root, cfg.seed)["dev"], "dev")
    train = ger.nbest_pairs(rec, root, build_train_split(root, cfg.seed), "train")
    return cfg, speech, dev, ger.examples(train, speech.llm)


def run_ger_kron(args: argparse.Namespace) -> None:
    import dataclasses

    from perception.llm.adapt import ger

    cfg, speech, dev, examples = _ger_data()
    dev, examples = dev[: args.limit], examples[: args.limit]  # limit: a quick check only
    recipe = dataclasses.replace(cfg.lora, epochs=args.epochs, lr=args.lr)
    rows = []
    lm = load_causal_lm(MODEL, adapter=ger.ADAPTER)
    row = {"adapter": f"LoRA r{cfg.lora.rank} all projections (smollm2-ger-lora)"}
    row["trainable"] = parameter_row(
        "lora", attach(load_causal_lm(MODEL).model, AdapterOptions(rank=cfg.lora.rank))
    ).trainable
    row["epochs"], row["lr"] = cfg.lora.epochs, cfg.lora.lr
    row["dev_ger_wer"] = round(ger.ger_wer(lm, dev, speech)["ger_all"], 4)
    rows.append(row)
    log(row)
    base = load_causal_lm(MODEL)
    torch.manual_seed(recipe.seed)
    wrapped = attach(base.model, AdapterOptions(kind="kron", kron_factor=args.kron_factor))
    row = {"adapter": f"Kron a={args.kron_factor} all projections"}
    row["trainable"] = parameter_row("kron", wrapped).trainable
    row["epochs"], row["lr"] = recipe.epochs, recipe.lr
    tuned = CausalLM(MODEL, wrapped, base.tokenizer)
    lora.fine_tune(tuned, examples, recipe)
    merged = CausalLM(MODEL, wrapped.merge_and_unload().eval(), base.tokenizer)
    report = ger.ger_wer(merged, dev, speech)
    row["dev_ger_wer"] = round(report["ger_all"], 4)
    rows.append(row)
    log(row)
    notes = {
        "data": f"{len(examples)} GER training pairs (configs/llm/ger-lora.yaml), prompt without "
        "few-shot examples, batch 8, loss on the answer",
        "wer": f"GER proposals on the {len(dev)} speech dev clips' N-best (no acoustic "
        f"acceptance); AM-only (best hypothesis) {report['am_only_all']:.4f}",
    }
    write("ger_adapters", rows, notes)


def run_sparse_ger(args: argparse.Namespace) -> None:
    """The GER-tuned LLM with DEFT's sparse MLP at several tau: dev GER WER and the time of the
    whole dev pass (every GER generation) against the dense model, in the same process."""
    from perception.llm.adapt import ger

    _, speech, dev, _ = _ger_data()
    dev = dev[: args.limit]
    rows, dense_s = [], None
    for tau in [0.0, *args.taus]:
        lm = load_causal_lm(MODEL, adapter=ger.ADAPTER, sparse_mlp_tau=tau)
        start = time.perf_counter()
        report = ger.ger_wer(lm, dev, speech)
        seconds = time.perf_counter() - start
        dense_s = dense_s or seconds
        row = {
            "tau": tau if tau else "dense",
            "dev_ger_wer": round(report["ger_all"], 4),
            "dev_pass_s": round(seconds, 1),
            "speedup_vs_dense": round(dense_s / seconds, 3),
        }
        rows.append(row)
        log(row)
    notes = {
        "model": f"{MODEL} + {ger.ADAPTER} (merged), SparseMLP in every layer for tau > 0",
        "wer": f"GER proposals on the {len(dev)} speech dev clips' N-best; AM-only "
        f"{report['am_only_all']:.4f}",
        "speed": "one pass each, same process, dense first; the machine was shared",
    }
    write("sparse_ger", rows, notes)


def run_step_time(args: argparse.Namespace) -> None:
    """Seconds per AdamW step (8 rows of 180 tokens) of LoRA r8 and Kron a=32 on all
    projections, fastest of ``args.steps``, interleaved in one process."""
    runs = {"LoRA r8 all projections": AdapterOptions(rank=8)}
    runs["Kron a=32 all projections"] = AdapterOptions(kind="kron", kron_factor=32)
    models = {name: attach(load_causal_lm(MODEL).model, o) for name, o in runs.items()}
    ids = torch.randint(0, 1000, (8, 180), generator=torch.Generator().manual_seed(0))
    best = dict.fromkeys(models, float("inf"))
    for _ in range(args.steps):
        for name, m in models.items():
            opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], 1e-3)
            start = time.perf_counter()
            m(input_ids=ids, labels=ids).loss.backward()
            opt.step()
            opt.zero_grad()
            best[name] = min(best[name], time.perf_counter() - start)
    base = best["LoRA r8 all projections"]
    rows = [
        {"adapter": n, "s_per_step": round(t, 2), "vs_lora": round(t / base, 2)}
        for n, t in best.items()
    ]
    for row in rows:
        log(row)
    write("step_time", rows, {"threads": str(torch.get_num_threads()), "batch": "8 x 180 tokens"})


def run_tt(args: argparse.Namespace) -> None:
    splits, labelled = text.speech_text_splits(0), _dev_labelled()
    lm = load_causal_lm(MODEL)
    tok = lm.tokenizer
    dev = text.batches(tok, splits["dev"], 16)
    out_modes, in_modes = (8, 12, 16), (8, 8, 9)  # 1536 x 576
    originals = [layer.mlp.up_proj.weight.detach().clone() for layer in lm.model.model.layers]
    rows = []
    for rank in args.ranks:
        params, errors = 0, []
        with torch.no_grad():
            for layer, w in zip(lm.model.model.layers, originals, strict=True):
                tt = tt_svd(w, out_modes, in_modes, rank)
                params += tt.parameters
                errors.append(relative_error(w, tt))
                layer.mlp.up_proj.weight.copy_(tt.dense())
        row = {
            "max_rank": rank,
            "up_proj_params": params,
            "of_dense": round(params / sum(w.numel() for w in originals), 4),
            "mean_rel_error": round(statistics.mean(errors), 4),
            "dev_loss": round(text.mean_loss(lm.model, dev), 4),
            "few_shot_acc": round(few_shot_accuracy(lm.model, tok, labelled), 4),
        }
        rows.append(row)
        log(row)
    with torch.no_grad():
        for layer, w in zip(lm.model.model.layers, originals, strict=True):
            layer.mlp.up_proj.weight.copy_(w)
    base = {"max_rank": "dense", "up_proj_params": sum(w.numel() for w in originals)}
    base |= {"of_dense": 1.0, "mean_rel_error": 0.0}
    base["dev_loss"] = round(text.mean_loss(lm.model, dev), 4)
    base["few_shot_acc"] = round(few_shot_accuracy(lm.model, tok, labelled), 4)
    notes = {"layers": "up_proj of all 30 layers", "modes": f"out {out_modes}, in {in_modes}"}
    write("tt", [base, *rows], notes)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1: the tables' setting)"
    )
    sub = parser.add_subparsers(dest="what", required=True)
    pa = sub.add_parser("params")
    pa.add_argument("--train-steps", type=int, default=120, help="0: count parameters only")
    pa.add_argument(
        "--train",
        nargs="+",
        default=["LoRA r8 attention+MLP", "Kron a=16 attention+MLP", "Kron a=32 attention+MLP"],
        help="rows to fine-tune on the train text (the same recipe as the DEFT baseline)",
    )
    pa.set_defaults(run=params)
    d = sub.add_parser("deft")
    d.add_argument("--steps", type=int, default=120)
    d.add_argument("--lr", type=float, default=1e-3)
    d.add_argument(
        "--configs",
        nargs="+",
        default=["0:0.01", "1:0.01", "10:0.1", "10:1"],
        help="density-loss runs as weight:eps (weight 0 = plain LoRA)",
    )
    d.add_argument("--save-dir", type=Path, help="write each trained adapter (peft) here")
    d.set_defaults(run=run_deft)
    sc = sub.add_parser("sparse")
    sc.add_argument("--taus", type=float, nargs="+", default=[0.03, 0.1, 0.2, 0.3, 0.5, 1.0])
    sc.set_defaults(run=run_sparse_curve)
    z = sub.add_parser("zo")
    z.add_argument("--steps", type=int, default=60)
    z.set_defaults(run=run_zo)
    pr = sub.add_parser("prune")
    pr.add_argument("--fractions", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3, 0.5])
    pr.add_argument("--recovery-steps", type=int, default=40)
    pr.set_defaults(run=run_prune)
    gk = sub.add_parser("ger-kron")
    gk.add_argument("--kron-factor", type=int, default=32)
    gk.add_argument("--epochs", type=int, default=2)
    gk.add_argument("--lr", type=float, default=1e-3)
    gk.add_argument("--limit", type=int, help="first N pairs of train and dev (quick check)")
    gk.set_defaults(run=run_ger_kron)
    sg = sub.add_parser("sparse-ger", help="GER WER and speed of the sparse MLP on the GER LLM")
    sg.add_argument("--taus", type=float, nargs="+", default=[0.03, 0.1, 0.3])
    sg.add_argument("--limit", type=int, help="first N dev clips")
    sg.set_defaults(run=run_sparse_ger)
    st = sub.add_parser("step-time", help="seconds per training step, LoRA vs Kron")
    st.add_argument("--steps", type=int, default=3)
    st.set_defaults(run=run_step_time)
    pg = sub.add_parser("prune-ger")
    pg.add_argument("--fractions", type=float, nargs="+", default=[0.0, 0.1, 0.3, 0.5])
    pg.add_argument("--recovery-steps", type=int, default=40)
    pg.set_defaults(run=run_prune_ger)
    tt = sub.add_parser("tt")
    tt.add_argument("--ranks", type=int, nargs="+", default=[8, 16, 32, 64, 144])
    tt.set_defaults(run=run_tt)
    zm = sub.add_parser("zo-memory", help="(internal) one memory run in a fresh process")
    zm.add_argument("--which", choices=RUNS, required=True)
    zm.add_argument("--steps", type=int, default=3)
    zm.set_defaults(run=zo_memory)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.run(args)


if __name__ == "__main__":
    main()
