"""The speech methods on real recordings: AM-only, GER and fusion, judged on what people said.

Owns running every method on every utterance of a folder of real recordings
(:mod:`perception.speech.recordings`; Silero VAD cuts each file, as ``perception transcribe``
does), from one shared N-best per utterance, and reporting per method: WER with a paired
bootstrap interval against AM-only, the LLM's own proposal WER before any guard, how often the
proposal copies a hypothesis, how many of its words no hypothesis and no context phrase holds
(hallucinated words), the worst group (source, kind) against AM-only, and compute time per
utterance. The guards' acceptance margin is swept from the same proposals, so a margin can be
chosen on these recordings without decoding again. The recordings are development data: they
choose and tune, and never train.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from perception.audio import load_audio
from perception.config import to_dict
from perception.eval.bootstrap import paired_difference
from perception.eval.wer import count_errors, normalize, normalizer_for
from perception.speech.api import SpeechRecognizer
from perception.speech.evaluate import Proposal, propose
from perception.speech.recordings import Recording
from perception.speech.vad import load_vad, segment

MARGINS = (-0.2, -0.1, 0.0, 0.1, 0.2, 0.5, 1.0, 2.0)
MAX_GROUP_LOSS = 0.01


@dataclass(frozen=True)
class RealUtterance:
    """One VAD utterance of a recording: its N-best and each method's proposal."""

    recording: Recording
    nbest: tuple[str, ...]
    context: tuple[str, ...]
    decode_ms: float
    proposals: dict[str, Proposal]
    propose_ms: dict[str, float]


def collect(
    rec: SpeechRecognizer,
    recordings: list[Recording],
    methods: tuple[str, ...],
    contexts: dict[str, tuple[str, ...]] | None = None,
) -> list[RealUtterance]:
    """Every method's proposal on every utterance (``contexts``: phrases per file name)."""
    out = []
    vad = load_vad(rec.options.vad, rec.store)  # one session; segment() resets its state
    for r in tqdm(recordings, desc="real recordings"):
        rec.set_context((contexts or {}).get(r.name, ()))
        for utt in segment(load_audio(r.path), rec.options.vad, rec.store, vad):
            t0 = time.perf_counter()
            decoded = rec.decode(utt.audio)
            decode_ms = (time.perf_counter() - t0) * 1e3
            props, ms = {}, {}
            for m in methods:
                t1 = time.perf_counter()
                props[m] = propose(rec, decoded, m)
                ms[m] = (time.perf_counter() - t1) * 1e3
            nbest = tuple(h.text for h in decoded.nbest)
            out.append(RealUtterance(r, nbest, rec.context, decode_ms, props, ms))
    rec.set_context(())
    return out


def final_text(u: RealUtterance, method: str, margin: float | None) -> str:
    """The utterance's text by ``method``: AM-only's best hypothesis, the LLM's proposal
    (``margin`` None: no guard), or what the guards keep at ``margin``."""
    best = u.nbest[0] if u.nbest else ""
    if method == "none":
        return best
    p = u.proposals[method]
    return p.llm_text if margin is None else p.final(best, margin)


def _per_recording(utts: list[RealUtterance], text_of) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for u in utts:
        out.setdefault(u.recording.name, []).append(text_of(u))
    return {k: " ".join(t for t in v if t) for k, v in out.items()}


def _edits(recordings: list[Recording], texts: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    norm = normalizer_for("en")
    counts = [
        count_errors(r.reference, texts.get(r.name, ""), normalizer=norm) for r in recordings
    ]
    return np.array([c.edits for c in counts]), np.array([c.words for c in counts])


def wer_of(recordings, utts, method: str, margin: float | None) -> float:
    edits, words = _edits(
        recordings, _per_recording(utts, lambda u: final_text(u, method, margin))
    )
    return float(edits.sum() / max(words.sum(), 1))


def worst_group(recordings, utts, method: str, margin: float | None) -> dict:
    """The (grouping, group) where ``method`` loses most WER against AM-only."""
    worst = {"grouping": "", "group": "", "wer_loss": 0.0}
    for grouping in ("source", "kind"):
        for group in sorted({getattr(r, grouping) for r in recordings}):
            keep = [r for r in recordings if getattr(r, grouping) == group]
            names = {r.name for r in keep}
            sub = [u for u in utts if u.recording.name in names]
            loss = wer_of(keep, sub, method, margin) - wer_of(keep, sub, "none", None)
            if loss > worst["wer_loss"]:
                worst = {"grouping": grouping, "group": group, "wer_loss": loss}
    return worst


def llm_behaviour(utts: list[RealUtterance], method: str) -> dict[str, float]:
    """Copy rate (proposals equal to some hypothesis) and hallucination rate (proposal words
    in no hypothesis and no context phrase), over utterances with a hypothesis."""
    copies, words, invented = 0, 0, 0
    spoken = [u for u in utts if u.nbest]
    for u in spoken:
        proposal = normalize(u.proposals[method].llm_text)
        heard = {normalize(h) for h in u.nbest}
        copies += proposal in heard
        vocab = {w for t in (*heard, *map(normalize, u.context)) for w in t.split()}
        words += len(proposal.split())
        invented += sum(w not in vocab for w in proposal.split())
    return {
        "copy_rate": copies / max(len(spoken), 1),
        "hallucination_rate": invented / max(words, 1),
    }


def method_report(recordings, utts, method: str, margin: float, seed: int = 0) -> dict:
    """WER, its bootstrap difference to AM-only, proposal WER, LLM behaviour, worst group and
    compute time of one method at ``margin``."""
    am, words = _edits(recordings, _per_recording(utts, lambda u: final_text(u, "none", None)))
    mine, _ = _edits(recordings, _per_recording(utts, lambda u: final_text(u, method, margin)))
    report = {
        "wer": float(mine.sum() / max(words.sum(), 1)),
        "versus_am_only": to_dict(paired_difference(mine, am, words, seed=seed)),
        "worst_group": worst_group(recordings, utts, method, margin),
        "median_ms": float(np.median([u.decode_ms + u.propose_ms.get(method, 0.0) for u in utts])),
    }
    if method != "none":
        report["proposal_wer"] = wer_of(recordings, utts, method, None)
        report |= llm_behaviour(utts, method)
        report["guard_kept"] = float(
            np.mean([final_text(u, method, margin) == u.proposals[method].llm_text for u in utts])
        )
    return report


def choose_margin(recordings, utts, methods: tuple[str, ...]) -> tuple[float, dict]:
    """WER of each LLM method at each margin of :data:`MARGINS`; the margin kept is the one
    with the lowest mean WER whose worst group loses at most 1 point (else the strictest)."""
    table = {}
    for margin in MARGINS:
        row = {m: wer_of(recordings, utts, m, margin) for m in methods}
        row["worst_group_loss"] = max(
            worst_group(recordings, utts, m, margin)["wer_loss"] for m in methods
        )
        table[margin] = row
    ok = [m for m in MARGINS if table[m]["worst_group_loss"] <= MAX_GROUP_LOSS]
    best = min(ok or [min(MARGINS)], key=lambda m: (np.mean([table[m][k] for k in methods]), m))
    return best, table


def run_real_eval(
    rec: SpeechRecognizer,
    recordings: list[Recording],
    methods: tuple[str, ...] = ("ger", "uadf"),
    contexts: dict[str, tuple[str, ...]] | None = None,
    margin: float | None = None,
) -> dict:
    """Every method on the recordings; ``margin`` None = chosen here (:func:`choose_margin`)."""
    utts = collect(rec, recordings, methods, contexts)
    chosen, table = choose_margin(recordings, utts, methods) if methods else (0.0, {})
    margin = chosen if margin is None else margin
    rows = [
        {
            "file": u.recording.name,
            "nbest": list(u.nbest),
            "context": list(u.context),
            **{m: u.proposals[m].llm_text for m in methods},
        }
        for u in utts
    ]
    return {
        "recordings": len(recordings),
        "utterances": len(utts),
        "words": int(_edits(recordings, {})[1].sum()),
        "margin": margin,
        "by_margin": {str(k): v for k, v in table.items()},
        "methods": {m: method_report(recordings, utts, m, margin) for m in ("none", *methods)},
        "utterance_rows": rows,
    }


def format_real(report: dict, title: str) -> str:
    """The per-method table of :func:`run_real_eval`."""
    lines = [
        f"{title}: {report['recordings']} recordings, {report['utterances']} utterances, "
        f"{report['words']} words; guard margin {report['margin']:g}",
        f"{'method':8} {'WER':>7} {'Δ vs AM-only [95% CI]':>26} {'proposal WER':>13} "
        f"{'copy':>6} {'halluc.':>8} {'kept':>6} {'median ms':>10}  worst group",
    ]
    for m, r in report["methods"].items():
        d = r["versus_am_only"]
        ci = f"{d['difference']:+.2%} [{d['low']:+.2%}, {d['high']:+.2%}]"
        extra = (
            f"{r['proposal_wer']:13.2%} {r['copy_rate']:6.0%} {r['hallucination_rate']:8.1%} "
            f"{r['guard_kept']:6.0%}"
            if "proposal_wer" in r
            else f"{'':13} {'':6} {'':8} {'':6}"
        )
        w = r["worst_group"]
        worst = f"{w['grouping']} {w['group']} {w['wer_loss']:+.2%}" if w["group"] else "none"
        lines.append(f"{m:8} {r['wer']:7.2%} {ci:>26} {extra} {r['median_ms']:10.0f}  {worst}")
    return "\n".join(lines)


def read_contexts(path: Path) -> dict[str, tuple[str, ...]]:
    """``file<TAB>phrase; phrase; ...`` lines → phrases per file name."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, phrases = line.partition("\t")
            out[name.strip()] = tuple(p.strip() for p in phrases.split(";") if p.strip())
    return out
