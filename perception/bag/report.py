"""The evaluation report: metrics from a replay, written as JSON and as an HTML page with figures.

Owns assembling the numbers (through :mod:`perception.bag.metrics`), the annotated frames
(annotated polygons blue, detections in their language's colour with the reading), the plots
(matplotlib, Agg) and the page. It does not run models or read bags.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import os
from pathlib import Path

import cv2
import numpy as np

from perception.bag import metrics
from perception.bag.evaluate import Pipelines, Replay
from perception.config import to_dict
from perception.errors import PerceptionError
from perception.eval.groups import GroupReport, format_report
from perception.eval.wer import count_errors
from perception.vision.draw import render_regions


def summarize(replay: Replay, pipes: Pipelines, iou_threshold: float = 0.5) -> dict:
    """Every number of the report, as plain data."""
    gt = replay.ground_truth or {}
    summary = {
        "bag": replay.bag,
        "replay_wall_s": round(replay.wall_s, 3),
        "bag_error": replay.bag_error,
        "models": {"detector": pipes.detector_id, "speech": list(pipes.speech_ids)},
        "unavailable": pipes.why_missing,
        "notes": replay.notes,
        "messages": {
            t: {
                **{
                    k: getattr(a, k)
                    for k in ("msgtype", "received", "processed", "failed", "skipped")
                },
                "reasons": dict(a.reasons),
            }
            for t, a in replay.accounts.items()
        },
        "ground_truth": bool(gt),
    }
    summary["speech"] = _speech_summary(replay, gt, "speech" not in pipes.why_missing)
    summary["vision"] = _vision_summary(replay, gt, iou_threshold)
    return summary


def _group(report: GroupReport) -> dict:
    d = to_dict(report)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def _speech_summary(replay: Replay, gt: dict, ran: bool) -> dict:
    transcripts = [r.transcript for r in replay.transcripts]
    stages: dict[str, list[float]] = {}
    for t in transcripts:
        for stage, ms in t.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    out = {
        "transcripts": [
            {**to_dict(r.transcript), "latency_ms": r.latency_ms} for r in replay.transcripts
        ],
        "latency": metrics.percentiles_ms([r.latency_ms for r in replay.transcripts]),
        "stage_latency": {s: metrics.percentiles_ms(v) for s, v in stages.items()},
    }
    if ran and gt.get("utterances") is not None:
        items = metrics.match_utterances(gt["utterances"], transcripts)
        out["wer"] = _group(metrics.wer_report(items))
        stages = _stage_texts(gt["utterances"], transcripts)
        out["utterances"] = [
            {
                "reference": i.reference,
                "hypothesis": i.hypothesis,
                "group": i.group,
                "wer": count_errors(i.reference, i.hypothesis).rate,
                **{k: v[n] for k, v in stages.items()},
            }
            for n, i in enumerate(items)
        ]
        av = _av_summary(gt["utterances"], transcripts)
        if av:
            out["av"] = av
    return out


STAGE_TEXTS = {  # per utterance in the report: each stage's text, as the transcripts carry it
    "am_text": lambda t: t.nbest[0].text if t.nbest else t.text,
    "llm_text": lambda t: t.llm_text,
    "fusion_guard": lambda t: t.guard,
    "language": lambda t: f"{t.language} ({t.language_prob:.2f})",
}


def _stage_texts(references: list[dict], transcripts: list) -> dict[str, list[str]]:
    """Per field of :data:`STAGE_TEXTS`, one text per report row (the order of
    :func:`metrics.match_utterances`)."""
    return {
        name: [
            i.hypothesis
            for i in metrics.match_utterances(
                references, [dataclasses.replace(t, text=get(t)) for t in transcripts]
            )
        ]
        for name, get in STAGE_TEXTS.items()
    }


def _av_summary(references: list[dict], transcripts: list) -> dict:
    """The AV recogniser's WER and who spoke, per reference utterance (transcripts that had
    camera frames only; {} when none had)."""
    seen = [t for t in transcripts if t.speaker_prob >= 0]
    if not seen:
        return {}
    av_texts = [dataclasses.replace(t, text=t.av_text) for t in seen]
    items = metrics.match_utterances(references, av_texts)
    rows = []
    for ref in references:
        mine = [t for t in seen if min(t.end_s, ref["end_s"]) - max(t.start_s, ref["start_s"]) > 0]
        prob = max((t.speaker_prob for t in mine), default=None)
        rows.append(
            {
                "reference": ref["text"],
                "av_text": " ".join(t.av_text for t in mine),
                "on_camera": ref.get("on_camera"),
                "speaker_prob": prob,
                "said_on_camera": None if prob is None else prob >= 0.5,
                "speaker_box": next((t.speaker_box for t in mine if t.speaker_box), None),
            }
        )
    judged = [r for r in rows if r["on_camera"] is not None and r["said_on_camera"] is not None]
    return {
        "wer": _group(metrics.wer_report(items)),
        "utterances": rows,
        "speaker_correct": sum(r["on_camera"] == r["said_on_camera"] for r in judged),
        "speaker_judged": len(judged),
    }


def _vision_summary(replay: Replay, gt: dict, iou_threshold: float) -> dict:
    out: dict = {
        "frames": len(replay.frames),
        "latency": metrics.percentiles_ms([f.latency_ms for f in replay.frames]),
        "regions_detected": sum(len(f.regions) for f in replay.frames),
    }
    truth = {img["stamp_ns"]: img["regions"] for img in gt.get("images", [])}
    if not truth or not replay.frames:
        return out
    items: list[metrics.RegionItem] = []
    readings: list[tuple[str, str]] = []
    for frame in replay.frames:
        if frame.stamp_ns in truth:
            items += metrics.match_frame(truth[frame.stamp_ns], frame.regions, iou_threshold)
            readings += metrics.read_pairs(truth[frame.stamp_ns], frame.regions, iou_threshold)
    hm, lang = metrics.detection_reports(items)
    out.update(iou_threshold=iou_threshold, hmean=_group(hm), language_id=_group(lang))
    out["reading"] = metrics.reading_summary(readings)
    return out


def annotate(rgb: np.ndarray, truth: list[dict], frame_regions: tuple) -> np.ndarray:
    """A copy of the frame: annotated polygons blue (don't care grey), then the detections as
    ``perception detect --draw`` draws them (language, score and reading)."""
    out = rgb.copy()
    for t in truth:
        color = (160, 160, 160) if t.get("dont_care") else (30, 90, 255)
        pts = np.round(np.asarray(t["polygon_px"])).astype(np.int32)
        cv2.polylines(out, [pts], True, color, 2)
    return render_regions(out, list(frame_regions))


class ReportError(PerceptionError):
    """The report could not be written (full disk, no permission)."""


def write_report(out_dir: Path, replay: Replay, summary: dict) -> Path:
    """Write report.json, index.html, frames/*.png and plots/*.png; returns the page's path.

    Raises:
        ReportError: a file could not be written; report.json is either whole or absent.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_whole(out_dir / "report.json", json.dumps(summary, indent=2, ensure_ascii=False))
        frames = _write_frames(out_dir / "frames", replay)
        plots = _write_plots(out_dir / "plots", replay, summary)
        page = out_dir / "index.html"
        _write_whole(page, _html(summary, frames, plots))
    except OSError as exc:
        raise ReportError(
            f"cannot write the report into {out_dir}: {exc.strerror or exc}; free some space "
            "or choose another --out folder"
        ) from None
    return page


def write_json(path: Path, data: dict) -> None:
    """``data`` as a JSON file, whole or not at all (ReportError when it cannot be written)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_whole(path, json.dumps(data, indent=2, ensure_ascii=False))
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it into place, so a failed write (a full disk)
    leaves no half-written file."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _write_frames(folder: Path, replay: Replay) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    truth = {i["stamp_ns"]: i["regions"] for i in (replay.ground_truth or {}).get("images", [])}
    names = []
    for frame in replay.frames:
        if frame.rgb is None:
            continue
        image = annotate(frame.rgb, truth.get(frame.stamp_ns, []), frame.regions)
        name = f"frame_{frame.stamp_ns}.png"
        if not cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise OSError(f"OpenCV could not write {folder / name}")
        names.append(f"frames/{name}")
    return names


def _write_plots(folder: Path, replay: Replay, summary: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    series = {
        "text detection per frame": [f.latency_ms for f in replay.frames],
        "speech per transcript": [r.latency_ms for r in replay.transcripts],
    }
    series = {k: v for k, v in series.items() if v}
    if series:
        fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series), 3.2), squeeze=False)
        for ax, (title, values) in zip(axes[0], series.items(), strict=True):
            ax.hist(values, bins=min(20, max(len(values), 1)), color="#4477aa")
            ax.set(title=f"latency: {title}", xlabel="ms", ylabel="count")
        fig.tight_layout()
        fig.savefig(folder / "latency.png", dpi=90)
        plt.close(fig)
        names.append("plots/latency.png")
    for report in _group_reports(summary):
        fig, ax = plt.subplots(figsize=(5, 3.2))
        groups = list(report["per_group"])
        values = [v if v is not None else 0.0 for v in report["per_group"].values()]
        colors = ["#cc3311" if g == report["worst_group"] else "#4477aa" for g in groups]
        bars = ax.bar(groups, values, color=colors)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=8)
        ax.set(title=f"{report['metric']} per group (worst in red)", ylabel=report["metric"])
        ax.tick_params(axis="x", rotation=30)
        fig.tight_layout()
        name = "plots/" + report["metric"].replace(" ", "_").replace("/", "") + ".png"
        fig.savefig(folder.parent / name, dpi=90)
        plt.close(fig)
        names.append(name)
    return names


def _group_reports(summary: dict) -> list[dict]:
    found = [
        summary["speech"].get("wer"),
        summary["vision"].get("hmean"),
        summary["vision"].get("language_id"),
    ]
    return [r for r in found if r and r["per_group"]]


def _fmt_group(report: dict) -> str:
    clean = {
        **report,
        "overall": report["overall"] if report["overall"] is not None else math.nan,
        "per_group": {
            k: (v if v is not None else math.nan) for k, v in report["per_group"].items()
        },
    }
    return format_report(GroupReport(**clean))


def _av_row(u: dict) -> str:
    esc = html.escape
    truth = "n/a" if u["on_camera"] is None else ("yes" if u["on_camera"] else "no")
    prob = "n/a" if u["speaker_prob"] is None else f"{u['speaker_prob']:.2f}"
    box = str([round(v) for v in u["speaker_box"]]) if u["speaker_box"] else ""
    return (
        f"<tr><td>{esc(u['reference'])}</td><td>{esc(u['av_text'])}</td><td>{truth}</td>"
        f"<td>{prob}</td><td>{esc(box)}</td></tr>"
    )


def _av_html(av: dict, rows: str) -> str:
    if not av:
        return ""
    wer = av["wer"]["overall"]
    return (
        "<h2>Audio-visual speech (face camera)</h2><p>AV recogniser WER "
        f"{'n/a' if wer is None else f'{wer * 100:.1f}%'}; who spoke right for "
        f"{av['speaker_correct']} of {av['speaker_judged']} utterances (P(the face on camera "
        "said it) &ge; 0.5). Synthetic face, closed command vocabulary.</p><table><tr>"
        "<th>reference</th><th>AV text</th><th>on camera (truth)</th><th>P(face said it)</th>"
        f"<th>face box</th></tr>{rows}</table>"
    )


def _utterance_row(u: dict) -> str:
    cells = [u["group"], u["reference"], u.get("am_text", ""), u.get("llm_text", ""),
             u.get("fusion_guard", ""), u["hypothesis"]]  # fmt: skip
    tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
    lang = html.escape(u.get("language", ""))
    return f"<tr>{tds}<td>{u['wer'] * 100:.1f}%</td><td>{lang}</td></tr>"


def _guard_html(guard: dict | None) -> str:
    if guard is None:
        return ""
    flagged = "".join(
        f"<tr><td>{html.escape(f['source'])}</td><td>{html.escape(f['text'])}</td>"
        f"<td>{html.escape(', '.join(f['labels']))}</td><td>{f['top_score']:.2f}</td></tr>"
        for f in guard["flagged"]
    )
    n = guard["screened"]
    return (
        f"<h2>Guard over what was heard and read</h2><p>{n['speech']} transcripts and "
        f"{n['sign']} frames' readings screened as prompts; {len(guard['flagged'])} flagged."
        "</p><table><tr><th>source</th><th>text</th><th>labels</th><th>top score</th></tr>"
        f"{flagged}</table>"
    )


def _html(summary: dict, frames: list[str], plots: list[str]) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(t)}</td><td>{esc(a['msgtype'])}</td><td>{a['received']}</td>"
        f"<td>{a['processed']}</td><td>{a['failed']}</td><td>{a['skipped']}</td>"
        f"<td>{esc('; '.join(f'{k} (x{v})' for k, v in a['reasons'].items()))}</td></tr>"
        for t, a in summary["messages"].items()
    )
    metrics_txt = "\n\n".join(_fmt_group(r) for r in _group_reports(summary))
    reading = summary["vision"].get("reading") or {}
    if reading.get("regions_read"):
        metrics_txt += (
            f"\n\nreading: {reading['regions_read']} matched regions read, "
            f"{reading['exact']} exactly; CER {reading['cer'] * 100:.1f}%"
        )
    utts = "".join(_utterance_row(u) for u in summary["speech"].get("utterances", []))
    av = summary["speech"].get("av") or {}
    av_rows = "".join(_av_row(u) for u in av.get("utterances", []))
    lat = {
        "text detection": summary["vision"]["latency"],
        "speech (per transcript)": summary["speech"]["latency"],
        **{f"speech stage {k}": v for k, v in summary["speech"]["stage_latency"].items()},
    }
    lat_rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{v.get('count', 0)}</td>"
        f"<td>{v.get('p50_ms', math.nan):.1f}</td>"
        f"<td>{v.get('p95_ms', math.nan):.1f}</td>"
        f"<td>{v.get('max_ms', math.nan):.1f}</td></tr>"
        for k, v in lat.items()
    )
    missing = "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in summary["unavailable"].items())
    imgs = "".join(
        f'<img src="{esc(p)}" style="max-width:48%;margin:2px">' for p in plots + frames
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>perception eval</title>
<style>body{{font-family:sans-serif;margin:1.5em}}td,th{{border:1px solid #ccc;padding:3px 6px}}
table{{border-collapse:collapse;margin-bottom:1em}}</style></head><body>
<h1>Evaluation of {esc(summary["bag"])}</h1>
<p>Replay wall time {summary["replay_wall_s"]:.1f} s. Models: detector
<code>{esc(summary["models"]["detector"] or "none")}</code>, speech
<code>{esc(", ".join(summary["models"]["speech"]) or "none")}</code>.
{"<b>Bag error: " + esc(summary["bag_error"]) + "</b>" if summary["bag_error"] else ""}</p>
{"<p>Unavailable (and what replaced it):</p><ul>" + missing + "</ul>" if missing else ""}
<h2>Messages</h2><table><tr><th>topic</th><th>type</th><th>received</th><th>processed</th>
<th>failed</th><th>skipped</th><th>reasons</th></tr>{rows}</table>
<h2>Metrics</h2><pre>{esc(metrics_txt) or "no ground truth for the evaluated streams"}</pre>
<h2>Latency</h2><table><tr><th>stage</th><th>n</th><th>p50 ms</th><th>p95 ms</th>
<th>max ms</th></tr>{lat_rows}</table>
<h2>Transcripts against references</h2><p>Per utterance: Whisper's best hypothesis, the
LLM's proposal and the fusion guards' verdict on it (empty with fusion "none"), the final text,
and the spoken language Whisper named (its probability).</p><table><tr><th>voice</th>
<th>reference</th><th>Whisper</th><th>LLM proposal</th><th>fusion guards</th><th>final</th>
<th>WER</th><th>language</th></tr>{utts}</table>
{_guard_html(summary.get("guard"))}
{_av_html(av, av_rows)}
<h2>Plots and annotated frames</h2><p>Annotated regions blue (don't care grey), detections in
their language's colour with the reading.
</p>{imgs}</body></html>"""
