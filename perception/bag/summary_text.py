"""A few lines of text for an evaluation summary, printed by `perception eval` and `demo`."""

from __future__ import annotations

import math


def _pct(value: float | None) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value * 100:.1f}%"
    )


def _group_line(report: dict | None) -> str:
    if not report:
        return "n/a (no ground truth or pipeline not run)"
    worst = report["worst_group"]
    return (
        f"{_pct(report['overall'])} overall; worst group {worst} "
        f"{_pct(report['per_group'].get(worst))}"
    )


def print_summary(summary: dict) -> None:
    for topic, a in summary["messages"].items():
        print(
            f"{topic}: {a['received']} received, {a['processed']} processed, "
            f"{a['failed']} failed, {a['skipped']} skipped"
        )
        for reason, n in a["reasons"].items():
            print(f"    {n} x {reason}")
    if summary["bag_error"]:
        print(f"bag: {summary['bag_error']}")
    speech, vision = summary["speech"], summary["vision"]
    print(f"speech WER: {_group_line(speech.get('wer'))}")
    av = speech.get("av")
    if av:
        print(
            f"audio-visual WER: {_group_line(av['wer'])}; who spoke right for "
            f"{av['speaker_correct']} of {av['speaker_judged']} utterances"
        )
    print(f"text H-mean: {_group_line(vision.get('hmean'))}")
    print(f"language-ID accuracy: {_group_line(vision.get('language_id'))}")
    reading = vision.get("reading") or {}
    if reading.get("regions_read"):
        print(
            f"reading: {reading['regions_read']} regions read, {reading['exact']} exact, "
            f"CER {reading['cer'] * 100:.1f}%"
        )
    for u in speech.get("utterances", []):
        print(f"  heard [{u.get('language', '')}] {u['hypothesis']!r}" + _stages(u))
    _print_guard(summary.get("guard"))
    for name, lat in (("text detection", vision["latency"]), ("speech", speech["latency"])):
        if lat:
            print(
                f"latency {name}: p50 {lat['p50_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms "
                f"(n={lat['count']})"
            )
    for name, why in summary["unavailable"].items():
        print(f"unavailable: {name}: {why}")


def _stages(u: dict) -> str:
    """Whisper's text and the LLM's proposal with the fusion guards' verdict, when they differ
    from the final text."""
    parts = []
    if u.get("am_text") and u["am_text"] != u["hypothesis"]:
        parts.append(f"Whisper {u['am_text']!r}")
    if u.get("llm_text"):
        parts.append(f"LLM {u['llm_text']!r}: {u.get('fusion_guard') or 'no verdict'}")
    return f" ({'; '.join(parts)})" if parts else ""


def _print_guard(guard: dict | None) -> None:
    if guard is None:
        return
    n = guard["screened"]
    print(
        f"guard: {n['speech']} transcripts and {n['sign']} frames' readings screened, "
        f"{len(guard['flagged'])} flagged"
    )
    for f in guard["flagged"]:
        print(f"  flagged {f['source']} {f['text']!r}: {', '.join(f['labels'])}")
