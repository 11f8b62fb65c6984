"""``perception models``: list, fetch, verify and register models in the offline store."""

from __future__ import annotations

import argparse
import sys
import typing

from perception.models.cards import Task
from perception.models.store import ModelStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list, fetch, verify or register models",
        description="Manage the offline model store (PERCEPTION_HOME).",
    )
    msub = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    ls = msub.add_parser("list", help="every card with its task, source and store state")
    ls.set_defaults(run=_list)

    fetch = msub.add_parser("fetch", help="copy (and convert) models into the store")
    fetch.add_argument("names", nargs="*", help="card names (default: all)")
    fetch.add_argument("--force", action="store_true", help="fetch again even if verified")
    fetch.set_defaults(run=_fetch)

    verify = msub.add_parser("verify", help="check every file's sha256 (exit 1 on any failure)")
    verify.add_argument("names", nargs="*", help="card names (default: all)")
    verify.set_defaults(run=_verify)

    add = msub.add_parser("add", help="register a model file or folder on this machine")
    add.add_argument("name", help="new card name, e.g. whisper-small")
    add.add_argument("path", help="file or folder (openai-whisper .pt, HF folder, ONNX file)")
    add.add_argument("--task", required=True, choices=typing.get_args(Task))
    add.add_argument(
        "--format",
        required=True,
        dest="fmt",
        help="openai-whisper, hf-folder, gguf, onnx, torchscript",
    )
    add.set_defaults(run=_add)


def _names(store: ModelStore, names: list[str]) -> list[str]:
    return names or sorted(store.cards())


def _list(args: argparse.Namespace) -> int:
    store = ModelStore()
    print(f"store: {store.home}")
    for name, card in sorted(store.cards().items()):
        src = card.source
        origin = (
            f"pypi:{src.package}=={src.version}" if src.kind == "pypi" else f"local:{src.path}"
        )
        present = (store.model_dir(name) / "manifest.json").is_file() or src.kind == "local"
        print(
            f"  {name:24} {card.task:20} {card.format:15} {'fetched' if present else '-':8} "
            f"{origin}"
        )
    return 0


def _fetch(args: argparse.Namespace) -> int:
    store = ModelStore()
    for name in _names(store, args.names):
        path = store.fetch(name, force=args.force)
        print(f"{name}: {path}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    store = ModelStore()
    failed = 0
    for name in _names(store, args.names):
        status = store.status(name)
        mark = "ok" if status.verified else "FAILED"
        failed += not status.verified
        print(f"{mark:6} {name:24} {status.detail}")
    if failed:
        print(f"{failed} model(s) failed verification", file=sys.stderr)
    return 1 if failed else 0


def _add(args: argparse.Namespace) -> int:
    card = ModelStore().add_local(args.name, args.path, args.task, args.fmt)
    print(f"registered {card.name} -> {card.source.path} (sha256 {card.source.files[0].sha256})")
    return 0
