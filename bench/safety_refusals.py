"""Refusal figures of the base LLM with a safety adapter on the guard data's dev and test
families, and every benign prompt the keyword rule counts as refused (what over-refusal is).

Run: OMP_NUM_THREADS=1 python bench/safety_refusals.py [ADAPTER]   (default: the bundled one)
"""

from __future__ import annotations

import sys

from perception.llm import safety
from perception.llm.causal_lm import load_causal_lm
from perception.llm.guard.data import load_rows
from perception.llm.refusal import is_refusal


def main() -> None:
    adapter = sys.argv[1] if len(sys.argv) > 1 else safety.ADAPTER
    rows = load_rows(None)
    family = {r.text: f"{r.source}/{r.family}" for r in rows}
    lm = load_causal_lm(safety.BASE, adapter=adapter)
    print(f"# {safety.BASE} + {adapter}")
    quiz = safety.quiz(lm)
    for split in ("dev", "test"):
        harmful, benign = safety.held_out_replies(lm, rows, safety.SafetyOptions(eval_split=split))
        print(
            safety.format_refusals([safety.refusal_row(f"{split} split", harmful, benign, quiz)])
        )
        for text, reply in benign:
            if is_refusal(reply):
                flat = " ".join(reply.split())
                print(f"  refused {family[text]}: {text[:60]!r} -> {flat[:80]!r}")


if __name__ == "__main__":
    main()
