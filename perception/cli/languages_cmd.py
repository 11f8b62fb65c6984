"""``perception languages``: list the registry, add a language from a font and characters."""

from __future__ import annotations

import argparse

from perception.vision.languages import (
    Language,
    add_language,
    expand_ranges,
    load_registry,
    user_language_codes,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "languages",
        help="list languages or add one (MENTOR learns it from printed templates, no training)",
        description="The language registry: built-in languages and those added here "
        "(saved in $PERCEPTION_HOME/vision/languages.yaml).",
    )
    lsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = lsub.add_parser("list", help="every language with its script, fonts and characters")
    ls.set_defaults(run=_list)
    add = lsub.add_parser("add", help="add a language from a font and its characters")
    add.add_argument("name", help="language code, e.g. 'si' or 'lao'")
    add.add_argument("--font", required=True, action="append", help="font file (repeatable)")
    add.add_argument("--chars", required=True, help="letters as ranges, e.g. 'ກ-ຮ' or 'a-z'")
    add.add_argument("--marks", default="", help="dependent vowel signs (abugidas), as ranges")
    add.add_argument(
        "--vowels", default="", help="vowel letters (alphabets) or independent vowels"
    )
    add.add_argument("--script", help="script name (default: the code)")
    add.add_argument("--display-name", help="human name (default: the code)")
    add.add_argument(
        "--rule", default="alphabet", choices=["alphabet", "abugida", "hangul", "logographic"]
    )
    add.add_argument("--min-len", type=int, default=2)
    add.add_argument("--max-len", type=int, default=7)
    add.set_defaults(run=_add)


def _list(args: argparse.Namespace) -> int:
    added = set(user_language_codes())
    for code, lang in sorted(load_registry().items()):
        origin = "added" if code in added else "built-in"
        chars = expand_ranges(lang.chars)
        print(
            f"{code:5} {lang.name:18} {lang.script:12} {origin:8} {len(chars):5} chars  "
            f"{lang.fonts[0]}"
        )
    return 0


def _add(args: argparse.Namespace) -> int:
    lang = Language(
        code=args.name,
        name=args.display_name or args.name,
        script=args.script or args.name,
        fonts=tuple(args.font),
        chars=args.chars,
        marks=args.marks,
        vowels=args.vowels,
        rule=args.rule,
        min_len=args.min_len,
        max_len=args.max_len,
    )
    path = add_language(lang)
    print(
        f"added {lang.code} ({len(expand_ranges(lang.chars))} characters) to {path}; "
        "`perception detect` now looks for it (no training needed)"
    )
    return 0
