"""The guard as services and the CLI use it: compact detectors, optionally Gradient Cuff, and
failing closed.

Owns the rule that a text the guard could not check is refused: any error while checking becomes
a refusal labelled ``guard_error`` that says why, and is counted (``errors``). Gradient Cuff runs
only when asked (it costs about a hundred generations) and only on prompts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from perception.llm.guard.detectors import DetectorOptions, Detectors, Direction, Verdict
from perception.models.store import ModelStore


@dataclass(frozen=True)
class ScreenOptions:
    """detectors: the compact detectors; gradient_cuff: also run Gradient Cuff on prompts, with
    the LLM ``llm`` (+ ``adapter``, a card name, empty for none)."""

    detectors: DetectorOptions = field(default_factory=DetectorOptions)
    gradient_cuff: bool = False
    llm: str = "smollm2-135m-instruct"
    adapter: str = ""


def refusal(exc: BaseException) -> Verdict:
    """The verdict for a text the guard could not check (fail closed)."""
    return Verdict(
        False, ("guard_error",), {}, f"guard error, refused: {type(exc).__name__}: {exc}"
    )


class Screen:
    """Checks texts; never raises for a text, refuses it instead."""

    def __init__(
        self, options: ScreenOptions | None = None, store: ModelStore | None = None, lm=None
    ) -> None:
        self.options = options or ScreenOptions()
        self.detectors = Detectors(self.options.detectors, store)
        self.cuff = None
        if self.options.gradient_cuff:
            self.cuff = self._cuff(lm, store)
        self.errors = 0
        self._lock = threading.Lock()

    def _cuff(self, lm, store):
        """Gradient Cuff on the LLM, with the stage-2 threshold stored for this model id."""
        from perception.llm.guard.cuff_eval import stored_threshold
        from perception.llm.guard.gradient_cuff import CuffOptions, GradientCuff, load_cuff_lm

        o = self.options
        model_id = f"{o.llm}+{o.adapter}" if o.adapter else o.llm
        cuff_options = CuffOptions(norm_threshold=stored_threshold(model_id))
        return GradientCuff(lm or load_cuff_lm(o.llm, o.adapter, store), cuff_options)

    def _count_error(self) -> None:
        with self._lock:
            self.errors += 1

    def check_many(self, texts: list[str], direction: Direction = "prompt") -> list[Verdict]:
        """One verdict per text, in order; a text that fails to check is refused."""
        try:
            verdicts = self.detectors.check_many(texts, direction)
        except Exception:  # one bad text must not refuse the others: check them one by one
            verdicts = [self._one(t, direction) for t in texts]
        if self.cuff is not None and direction == "prompt":
            verdicts = [self._with_cuff(t, v) for t, v in zip(texts, verdicts, strict=True)]
        return verdicts

    def _one(self, text: str, direction: Direction) -> Verdict:
        try:
            return self.detectors.check(text, direction)
        except Exception as exc:  # fail closed: whatever went wrong, the text is not passed
            self._count_error()
            return refusal(exc)

    def _with_cuff(self, text: str, verdict: Verdict) -> Verdict:
        try:
            result = self.cuff.check(text)
        except Exception as exc:
            self._count_error()
            return refusal(exc)
        labels = verdict.labels + ((f"gradient_cuff:{result.stage}",) if result.rejected else ())
        scores = {
            **verdict.scores,
            "gradient_cuff_refusal": result.refusal_prob,
            "gradient_cuff_norm": result.gradient_norm,
        }
        message = verdict.message or (result.reason if result.rejected else "")
        return Verdict(not labels, labels, scores, message, verdict.latency_ms)

    def check(self, text: str, direction: Direction = "prompt") -> Verdict:
        return self.check_many([text], direction)[0]
