"""The guard over what the robot heard and read during a replay.

Every final transcript, and every camera frame's readings (its regions' texts in reading order,
top to bottom then left to right, as one text: a sign's lines together), is checked by the
compact guard detectors as a prompt to the on-board LLM would be. A sign or an utterance that
tells the robot to ignore its instructions is flagged the way a typed prompt injection is.
This module owns what is screened and how it is summarised; the detectors are
:mod:`perception.llm.guard`'s and it does not know how they work.
"""

from __future__ import annotations

from dataclasses import dataclass

from perception.bag.evaluate import Replay
from perception.vision.types import TextRegion


@dataclass(frozen=True)
class Screened:
    """One checked text: where it came from ("speech" or "sign"), when (ns), the verdict."""

    source: str
    stamp_ns: int
    text: str
    allowed: bool
    labels: tuple[str, ...]
    top_score: float


def frame_text(regions: tuple[TextRegion, ...]) -> str:
    """A frame's readings in reading order (rows by their top edge, then left to right)."""
    read = [r for r in regions if r.text.strip()]
    key = [(min(y for _, y in r.polygon_px), min(x for x, _ in r.polygon_px)) for r in read]
    order = sorted(range(len(read)), key=lambda i: (round(key[i][0] / 20), key[i][1]))
    return " ".join(read[i].text.strip() for i in order)


def texts_of(replay: Replay) -> list[tuple[str, int, str]]:
    """(source, stamp_ns, text) of every transcript and every frame with readings."""
    heard = [
        ("speech", int(r.transcript.start_s * 1e9), r.transcript.text)
        for r in replay.transcripts
        if r.transcript.text.strip()
    ]
    read = [("sign", f.stamp_ns, frame_text(f.regions)) for f in replay.frames]
    return heard + [item for item in read if item[2]]


def screen_replay(replay: Replay, screen) -> list[Screened]:
    """Every text of :func:`texts_of` through ``screen`` (a guard ``Screen``: check_many)."""
    items = texts_of(replay)
    verdicts = screen.check_many([text for _, _, text in items])
    return [
        Screened(src, stamp, text, v.allowed, tuple(v.labels), max(v.scores.values(), default=0.0))
        for (src, stamp, text), v in zip(items, verdicts, strict=True)
    ]


def guard_summary(screened: list[Screened]) -> dict:
    """Counts per source and every flagged text, as plain data for the report."""
    flagged = [s for s in screened if not s.allowed]
    return {
        "screened": {src: sum(s.source == src for s in screened) for src in ("speech", "sign")},
        "flagged": [
            {
                "source": s.source,
                "stamp_ns": s.stamp_ns,
                "text": s.text,
                "labels": list(s.labels),
                "top_score": round(s.top_score, 3),
            }
            for s in flagged
        ],  # fmt: skip
        "items": [
            {"source": s.source, "text": s.text, "allowed": s.allowed, "labels": list(s.labels)}
            for s in screened
        ],
    }
