"""``perception avsr-eval``: calibration, dev tuning and the test tables of the audio-visual
recogniser on the synthetic AV splits (:mod:`perception.avsr.dataset`).

1. Calibration split: Whisper's temperature (teacher-forced tokens of every speaking clip at
   every SNR), the visual word head's temperature (per 25 Hz step against the renderer's word
   timings), both by UADF's bisection (:func:`perception.speech.fusion.fit_temperature`); the
   gate's two temperatures on clip scores (Silero: is there speech; visual: is the face
   speaking).
2. Dev split: the static fusion weight, the grid value with the lowest WER over all SNRs.
3. Test split: WER of ``audio`` (Whisper greedy), ``static`` and ``av-uadf`` at each SNR with
   bootstrap intervals, and the active-speaker gate's precision / recall against the audio-only
   gate (positives: the face on camera speaks; negatives: off-camera speech, silence).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from perception.audio import load_audio
from perception.avsr import weights
from perception.avsr.api import (
    AvRecognizer,
    Temperatures,
    face_score,
    speech_score,
)
from perception.avsr.dataset import SNRS_DB, AvItem, build_eval, frame_labels, noisy_audio
from perception.avsr.options import FUSIONS, AvOptions
from perception.eval.bootstrap import paired_difference
from perception.eval.wer import count_errors, normalizer_for
from perception.models.store import default_home, sha256_file
from perception.speech.fusion import fit_temperature

STATIC_GRID = (0.1, 0.3, 1.0, 3.0)


@dataclass(frozen=True)
class AvEvalOptions:
    data_dir: str = ""  # "" = $PERCEPTION_HOME/data/avsr
    seed: int = 0
    weights: str = ""
    limit: int | None = None  # first N speaking clips of each split (quick runs)
    static_grid: tuple[float, ...] = STATIC_GRID
    top_k: int = 10

    @property
    def data(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_home() / "data" / "avsr"


def snr_name(snr: float | None) -> str:
    return "clean" if snr is None else f"{snr:g}"


@dataclass
class Clip:
    """One evaluation clip with its visual output computed once."""

    item: AvItem
    audio: np.ndarray
    track: object
    out: object


def _clips(av: AvRecognizer, root: Path, items: list[AvItem], desc: str) -> list[Clip]:
    clips = []
    for it in tqdm(items, desc=f"visual front end ({desc})"):
        data = np.load(root / it.frames)
        mt, out = av.look(data["frames"], data["stamps_s"], 0.0, it.duration_s)
        clips.append(Clip(it, load_audio(root / it.audio), mt, out))
    return clips


def _binary_logits(scores: list[float]) -> torch.Tensor:
    s = torch.tensor(scores, dtype=torch.float64).clamp(1e-6, 1 - 1e-6)
    return torch.stack([torch.zeros_like(s), torch.log(s / (1 - s))], 1)


def calibrate(
    av: AvRecognizer, clips: list[Clip], vocab: dict[str, int]
) -> tuple[Temperatures, dict]:
    am = av.acoustic
    rows, targets = [], []
    for c in tqdm([c for c in clips if c.item.kind == "speaking"], desc="calibrating Whisper"):
        tokens = am.text_tokens(c.item.text)
        for snr in SNRS_DB:
            feats = am.encode(noisy_audio(c.audio, c.item, snr))
            rows.append(am.teacher_forced_logits(feats, tokens))
            targets.append(torch.tensor(tokens + [am.tokenizer.eot]))
    audio_cal = fit_temperature(torch.cat(rows), torch.cat(targets))
    v_logits, v_targets = [], []
    for c in clips:
        if c.item.kind == "speaking":
            words, _ = frame_labels(c.item, c.track.times_s, vocab)
            v_logits.append(torch.from_numpy(c.out.word_logits))
            v_targets.append(torch.from_numpy(words))
    visual_cal = fit_temperature(torch.cat(v_logits), torch.cat(v_targets))
    speech_raw, speech_y, face_raw, face_y = [], [], [], []
    for c in clips:
        for snr in SNRS_DB:
            raw, probs = speech_score(av.vad, noisy_audio(c.audio, c.item, snr))
            speech_raw.append(raw)
            speech_y.append(int(c.item.kind != "silent"))
            face_raw.append(face_score(c.out.activity(), c.track.times_s, probs))
            face_y.append(int(c.item.kind == "speaking"))
    vad_cal = fit_temperature(_binary_logits(speech_raw), torch.tensor(speech_y))
    face_cal = fit_temperature(_binary_logits(face_raw), torch.tensor(face_y))
    t = Temperatures(
        audio_cal.temperature, visual_cal.temperature, face_cal.temperature, vad_cal.temperature
    )
    report = {
        name: dataclasses.asdict(cal)
        for name, cal in (
            ("audio", audio_cal),
            ("visual", visual_cal),
            ("face", face_cal),
            ("vad", vad_cal),
        )
    }
    return t, report


def _errors(ref: str, hyp: str) -> tuple[int, int]:
    c = count_errors(ref, hyp, normalizer=normalizer_for("en"))
    return c.edits, c.words


def decode_all(
    av: AvRecognizer, clips: list[Clip], fusions: dict[str, tuple[str, float]], desc: str
) -> dict:
    """{snr: {name: [(edits, words, hyp)]}} for each fusion (name → (kind, static weight))."""
    out: dict = {snr_name(s): {n: [] for n in fusions} for s in SNRS_DB}
    speaking = [c for c in clips if c.item.kind == "speaking"]
    bar = tqdm(total=len(speaking) * len(SNRS_DB), desc=desc)
    for c in speaking:
        for snr in SNRS_DB:
            feats = av.acoustic.encode(noisy_audio(c.audio, c.item, snr))
            for name, (kind, w) in fusions.items():
                av.set_temperatures(dataclasses.replace(av.t, static_weight=w))
                hyp = av.transcribe(feats, c.out, kind)
                out[snr_name(snr)][name].append((*_errors(c.item.text, hyp), hyp))
            bar.update(1)
    bar.close()
    return out


def _wer(rows: list) -> float:
    return sum(r[0] for r in rows) / max(sum(r[1] for r in rows), 1)


def _interval(rows: list, base: list | None, seed: int) -> dict:
    e = np.array([r[0] for r in rows])
    n = np.array([r[1] for r in rows])
    d = paired_difference(
        e, np.zeros_like(e) if base is None else np.array([r[0] for r in base]), n, seed=seed
    )
    return {"value": round(d.difference, 4), "low": round(d.low, 4), "high": round(d.high, 4)}


def gate_table(av: AvRecognizer, clips: list[Clip]) -> dict:
    """Precision / recall of the on-camera gate and of the audio-only gate (Silero ≥ 0.5)."""
    counts = {k: {"tp": 0, "fp": 0, "fn": 0, "tn": 0} for k in ("audio-only", "audio-visual")}
    per_snr: dict = {}
    for c in tqdm(clips, desc="gate"):
        user = c.item.kind == "speaking"
        for snr in SNRS_DB:
            g = av.gate(noisy_audio(c.audio, c.item, snr), c.track, c.out, 0.0)
            for name, said in (("audio-only", g.speech >= 0.5), ("audio-visual", g.user >= 0.5)):
                key = ("t" if said == user else "f") + ("p" if said else "n")
                counts[name][key] += 1
                per_snr.setdefault(snr_name(snr), {}).setdefault(
                    name, {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
                )[key] += 1

    def pr(c: dict) -> dict:
        p = c["tp"] / max(c["tp"] + c["fp"], 1)
        r = c["tp"] / max(c["tp"] + c["fn"], 1)
        return {"precision": round(p, 4), "recall": round(r, 4), **c}

    return {
        "all": {k: pr(v) for k, v in counts.items()},
        "by_snr": {s: {k: pr(v) for k, v in d.items()} for s, d in per_snr.items()},
    }


def evaluate(opts: AvEvalOptions) -> dict:
    from perception.speech.api import SpeechOptions, SpeechRecognizer
    from perception.speech.vad import VadOptions, load_vad

    root = opts.data if opts.limit is None else opts.data / f"limit-{opts.limit}"
    splits = build_eval(root, opts.seed, opts.limit)
    rec = SpeechRecognizer(SpeechOptions(fusion="none"))
    av = AvRecognizer(
        AvOptions(weights=opts.weights, top_k=opts.top_k, face_detector="drawn"),
        rec.acoustic,
        load_vad(VadOptions()),
    )
    vocab = {w: i for i, w in enumerate(av.ckpt.vocabulary)}
    cal_clips = _clips(av, root, splits["calibration"], "calibration")
    t, cal_report = calibrate(av, cal_clips, vocab)
    av.set_temperatures(t)
    dev = decode_all(
        av,
        _clips(av, root, splits["dev"], "dev"),
        {f"static {w:g}": ("static", w) for w in opts.static_grid},
        "dev: static grid",
    )
    dev_wer = {
        name: _wer([r for s in dev.values() for r in s[name]]) for name in next(iter(dev.values()))
    }
    best = min(dev_wer, key=dev_wer.get)
    t = dataclasses.replace(t, static_weight=float(best.split()[1]))
    av.set_temperatures(t)
    test_clips = _clips(av, root, splits["test"], "test")
    fusions = {f: (f, t.static_weight) for f in FUSIONS}
    test = decode_all(av, test_clips, fusions, "test: audio / static / av-uadf")
    table = {s: {f: round(_wer(rows[f]), 4) for f in FUSIONS} for s, rows in test.items()}
    intervals = {
        s: {f: _interval(rows[f], None, opts.seed) for f in FUSIONS} for s, rows in test.items()
    }
    versus = {
        s: {f: _interval(rows[f], rows["audio"], opts.seed) for f in FUSIONS if f != "audio"}
        for s, rows in test.items()
    }
    examples = {
        s: [
            {"ref": c.item.text, **{f: rows[f][i][2] for f in FUSIONS}}
            for i, c in enumerate([c for c in test_clips if c.item.kind == "speaking"][:3])
        ]
        for s, rows in test.items()
    }
    return {
        "snr_db": table,
        "wer_interval_95": intervals,
        "delta_vs_audio_95": versus,
        "gate": gate_table(av, test_clips),
        "calibration": {
            **{k: round(v, 4) for k, v in dataclasses.asdict(t).items()},
            "fits": cal_report,
        },
        "dev_static_wer": {k: round(v, 4) for k, v in dev_wer.items()},
        "test_speaking_clips": sum(c.item.kind == "speaking" for c in test_clips),
        "test_clips": len(test_clips),
        "examples": examples,
        "synthetic": "rendered cartoon faces and espeak-ng voices; closed command vocabulary",
    }


def save_calibration(report: dict, weights_name: str = "") -> Path:
    """Write the fitted temperatures and static weight beside the checkpoint."""
    import json

    c = report["calibration"]
    path = weights.calibration_path(weights_name)
    data = {
        "checkpoint_sha256": sha256_file(weights.resolve(weights_name)),
        "audio_temperature": c["audio"],
        "visual_temperature": c["visual"],
        "activity_temperature": c["activity"],
        "vad_temperature": c["vad"],
        "static_weight": c["static_weight"],
        "written_by": "perception avsr-eval --save",
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def format_report(r: dict) -> str:
    lines = [
        "AVSR on the synthetic AV test split "
        f"({r['test_speaking_clips']} speaking clips per SNR): WER [95% bootstrap interval]",
        "",
    ]
    lines.append(f"| SNR | {' | '.join(FUSIONS)} | Δ static vs audio | Δ av-uadf vs audio |")
    lines.append("| --- |" + " --- |" * (len(FUSIONS) + 2))
    for s, row in r["wer_interval_95"].items():
        cells = [
            f"{v['value'] * 100:.1f}% [{v['low'] * 100:.1f}, {v['high'] * 100:.1f}]"
            for v in row.values()
        ]
        deltas = [
            f"{d['value'] * 100:+.1f} [{d['low'] * 100:+.1f}, {d['high'] * 100:+.1f}]"
            for d in r["delta_vs_audio_95"][s].values()
        ]
        name = s if s == "clean" else f"{s} dB"
        lines.append(f"| {name} | " + " | ".join(cells + deltas) + " |")
    g = r["gate"]["all"]
    lines += [
        "",
        "Active-speaker gate (positives: the face on camera speaks), all SNRs:",
        "",
        "| gate | precision | recall | tp | fp | fn | tn |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for k, v in g.items():
        counts = " | ".join(str(v[n]) for n in ("tp", "fp", "fn", "tn"))
        lines.append(f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {counts} |")
    c = r["calibration"]
    lines += [
        "",
        f"temperatures: audio {c['audio']:.3f}, visual {c['visual']:.3f}, "
        f"face {c['activity']:.3f}, vad {c['vad']:.3f}; static weight {c['static_weight']:g} "
        f"(dev WER {r['dev_static_wer']})",
    ]
    return "\n".join(lines)
