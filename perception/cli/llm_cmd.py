"""``perception llm``: chat with the guarded on-board LLM; train its safety and GER adapters."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "llm",
        help="chat with the guarded on-board LLM, or train its safety adapter",
        description="The on-board LLM behind the guards of `perception guard`.",
    )
    lsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    chat = lsub.add_parser("chat", help="type prompts; each passes the guards before and after")
    chat.add_argument("--model", default="smollm2-135m-instruct", help="LLM card or HF folder")
    chat.add_argument("--adapter", default="smollm2-135m-safety", help="adapter ('' for none)")
    chat.add_argument("--max-new-tokens", type=int, default=96)
    chat.add_argument("--no-guard", action="store_true", help="skip the detectors (to compare)")
    chat.set_defaults(run=_chat)

    tr = lsub.add_parser("train-safety", help="train the LoRA safety adapter and its card")
    tr.add_argument("--data", type=Path, help="guard data folder (default ../shared/data/guard)")
    tr.add_argument("--out", type=Path, help="adapter folder (default: the bundled one)")
    tr.add_argument("--epochs", type=int, default=2)
    tr.add_argument(
        "--commands",
        type=int,
        help="teach N speech-corpus training commands → acknowledgements (default 200)",
    )
    tr.add_argument(
        "--eval-split",
        choices=("dev", "test"),
        default="test",
        help="held-out split of the figures (dev to compare recipes; the card records test)",
    )
    tr.set_defaults(run=_train)

    ft = lsub.add_parser(
        "finetune",
        help="train the GER LoRA adapter on N-best → reference pairs of the speech train split",
        description="Render the speech training split (sentences in no calibration / dev / "
        "test split), decode its Whisper N-best lists, fine-tune a LoRA adapter so the LLM "
        "writes the reference from the GER prompt, save it with its card, and print GER's "
        "dev WER with the frozen and the tuned LLM.",
    )
    ft.add_argument("--config", type=Path, required=True, help="e.g. configs/llm/ger-lora.yaml")
    ft.add_argument("--out", type=Path, help="adapter folder (default: the config's output)")
    ft.add_argument("--train-limit", type=int, help="use only N training clips (quick checks)")
    ft.add_argument("--dev-limit", type=int, help="use only N dev clips")
    ft.set_defaults(run=_finetune)


def _chat(args: argparse.Namespace) -> int:
    from perception.llm.service import LlmService, ServiceOptions

    options = ServiceOptions(
        model=args.model,
        adapter=args.adapter,
        max_new_tokens=args.max_new_tokens,
        guard_prompts=not args.no_guard,
        guard_replies=not args.no_guard,
    )
    service = LlmService(options)
    print("type a prompt (Ctrl-D to end)", file=sys.stderr)
    for line in sys.stdin:
        if not line.strip():
            continue
        result = service.generate(line.strip())
        if result.success:
            print(result.text)
        else:
            print(f"[refused] {result.message}")
    return 0


def _train(args: argparse.Namespace) -> int:
    import dataclasses

    from perception.llm.safety import (
        ADAPTER,
        WEIGHTS_DIR,
        SafetyOptions,
        format_refusals,
        train_adapter,
    )

    options = SafetyOptions()
    options = dataclasses.replace(
        options,
        lora=dataclasses.replace(options.lora, epochs=args.epochs),
        train_commands=options.train_commands if args.commands is None else args.commands,
        eval_split=args.eval_split,
    )
    table = train_adapter(args.data, args.out or WEIGHTS_DIR / ADAPTER, options)
    print(format_refusals(table))
    return 0


def _finetune(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from perception.config import load_yaml
    from perception.llm.adapt.ger import GerTuneConfig, finetune

    cfg = load_yaml(GerTuneConfig, args.config)
    changes = {
        "output": str(args.out) if args.out else None,
        "train_limit": args.train_limit,
        "dev_limit": args.dev_limit,
    }
    cfg = dataclasses.replace(cfg, **{k: v for k, v in changes.items() if v is not None})
    report = finetune(cfg)
    print(json.dumps(report, indent=1))
    return 0
