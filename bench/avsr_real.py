"""The AV path on real talking faces: face found, who spoke, and AV vs audio-only WER on the GRID
clips of ``shared/data/av`` (development clips: one speaker, one face, a fixed camera).

Who spoke is judged per utterance (speech span of the .align ± 0.1 s). On camera: the clip's
face with its own sound (10), and two faces side by side (clip i's and clip i+1's, sides
alternating) with clip i's sound (10): right when the chosen face is the speaker's. Off camera
(constructed negatives): the face with each other clip's sound (90), a still frame with the
clip's sound (10), the sound track shifted by ±0.5 s (20): right when no face is chosen. The
synchrony logistic is fitted leave-one-clip-out (a case is scored by a fit on the cases that
share no clip with it); ``--save`` stores the fit on all cases in perception/avsr/weights/.

    OMP_NUM_THREADS=1 .venv/bin/python bench/avsr_real.py --save \\
        --out bench/results/avsr_real_faces.json   # ~100 s on one CPU thread
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from perception.avsr.realclips import RealClip, load_folder
from perception.avsr.realface import MtcnnDetector, link_tracks, mouth_track
from perception.avsr.synchrony import (
    CALIBRATION,
    SyncFeatures,
    fit_logistic,
    log_energy,
    sync_features,
)

PAD_S = 0.1
SHIFT_S = 0.5


def _shift(audio: np.ndarray, s: float) -> np.ndarray:
    n, out = int(abs(s) * 16000), np.zeros_like(audio)
    if s > 0:
        out[n:] = audio[:-n]
    else:
        out[:-n] = audio[n:]
    return out


def _features(frames, stamps, dets, audio, span) -> tuple[list[SyncFeatures], list[tuple]]:
    """Per face track over the utterance span: features and mean box."""
    t0, t1 = span[0] - PAD_S, span[1] + PAD_S
    feats, boxes = [], []
    for faces in link_tracks(dets):
        mt = mouth_track(frames, stamps, faces, start_s=t0, end_s=t1)
        feats.append(sync_features(mt.crops, log_energy(audio, mt.times_s)))
        boxes.append(tuple(float(v) for v in mt.boxes.mean(0)))
    return feats, boxes


def build_cases(clips: list[RealClip], det: MtcnnDetector) -> tuple[list[dict], dict]:
    """Every who-spoke case with its per-track features; and the face-found counts."""
    dets = {c.name: det.detect(c.frames) for c in clips}
    cases = []
    for i, c in enumerate(clips):
        sp, d = c.speech_span_s(), dets[c.name]
        f, b = _features(c.frames, c.stamps_s, d, c.audio, sp)
        cases.append(dict(kind="own sound", clips={i}, feats=f, speaker=0, boxes=b))
        still = np.repeat(c.frames[:1], len(c.frames), 0)
        f, b = _features(still, c.stamps_s, [d[0]] * len(d), c.audio, sp)
        cases.append(dict(kind="still frame", clips={i}, feats=f, speaker=None, boxes=b))
        for s in (SHIFT_S, -SHIFT_S):
            span = (sp[0] + s, sp[1] + s)
            f, b = _features(c.frames, c.stamps_s, d, _shift(c.audio, s), span)
            cases.append(dict(kind="shifted sound", clips={i}, feats=f, speaker=None, boxes=b))
        for j, o in enumerate(clips):
            if j != i:
                audio = o.audio[: len(c.audio)]
                f, b = _features(c.frames, c.stamps_s, d, audio, o.speech_span_s())
                cases.append(
                    dict(kind="other sound", clips={i, j}, feats=f, speaker=None, boxes=b)
                )
    two_dets = []
    for i, c in enumerate(clips):
        o = clips[(i + 1) % len(clips)]
        n = min(len(c.frames), len(o.frames))
        left = i % 2 == 0  # the speaker's side alternates
        pair = (c.frames[:n], o.frames[:n]) if left else (o.frames[:n], c.frames[:n])
        frames = np.concatenate(pair, axis=2)
        d = det.detect(frames)
        two_dets.append(d)
        f, b = _features(frames, c.stamps_s[:n], d, c.audio, c.speech_span_s())
        w = c.frames.shape[2]
        speaker = next(k for k, bx in enumerate(b) if ((bx[0] + bx[2]) / 2 < w) == left)
        cases.append(
            dict(kind="two faces", clips={i, (i + 1) % len(clips)}, feats=f, speaker=speaker,
                 boxes=b)
        )  # fmt: skip
    counts = {
        "one face per clip": {
            "frames": sum(len(d) for d in dets.values()),
            "frames_with_a_face": sum(len(x) > 0 for d in dets.values() for x in d),
            "faces_per_frame": _histogram([len(x) for d in dets.values() for x in d]),
        },
        "two faces side by side": {
            "frames": sum(len(d) for d in two_dets),
            "frames_with_both_faces": sum(len(x) == 2 for d in two_dets for x in d),
            "faces_per_frame": _histogram([len(x) for d in two_dets for x in d]),
        },
    }
    return cases, counts


def _histogram(values: list[int]) -> dict[str, int]:
    return {str(k): int(v) for k, v in zip(*np.unique(values, return_counts=True), strict=True)}


def _training_set(cases: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    x, y = [], []
    for c in cases:
        for k, f in enumerate(c["feats"]):
            x.append(f.array())
            y.append(float(c["speaker"] == k))
    return np.array(x), np.array(y)


def who_spoke(cases: list[dict]) -> dict:
    """Leave-one-clip-out decisions: the likeliest face if its P(speaking) ≥ 0.5, else none."""
    by_kind: dict = {}
    for c in cases:
        train = [o for o in cases if not (o["clips"] & c["clips"])]
        cal = fit_logistic(*_training_set(train))
        probs = [cal.probability(f) for f in c["feats"]]
        k = int(np.argmax(probs)) if probs else None
        chosen = k if k is not None and probs[k] >= 0.5 else None
        c["probs"], c["chosen"] = [round(q, 3) for q in probs], chosen
        r = by_kind.setdefault(c["kind"], {"right": 0, "cases": 0})
        r["cases"] += 1
        r["right"] += int(chosen == c["speaker"])
    on = [c for c in cases if c["speaker"] is not None]
    off = [c for c in cases if c["speaker"] is None]

    def acc(cs: list[dict]) -> dict:
        right = sum(c["chosen"] == c["speaker"] for c in cs)
        return {"right": right, "cases": len(cs), "accuracy": round(right / len(cs), 4)}

    return {"on camera": acc(on), "off camera": acc(off), "by case": by_kind}


def wer_table(clips: list[RealClip]) -> dict:
    """Audio-only (Whisper greedy) and the AV recogniser end to end (face_detector mtcnn: the
    lips get no weight), and, to show what the lips read, the drawn-face visual model forced
    to vote (static w = 1) on the real mouth crops."""
    from perception.avsr.api import AvRecognizer
    from perception.avsr.model import run
    from perception.avsr.options import AvOptions
    from perception.eval.wer import count_errors, normalizer_for
    from perception.speech.api import SpeechOptions, SpeechRecognizer
    from perception.speech.vad import VadOptions, load_vad

    rec = SpeechRecognizer(SpeechOptions(fusion="none"))
    av = AvRecognizer(AvOptions(), rec.acoustic, load_vad(VadOptions()))
    norm = normalizer_for("en")
    totals = {
        "audio": [0, 0],
        "av (mtcnn, lips gated)": [0, 0],
        "lips forced (static w=1)": [0, 0],
    }
    rows, steps_right, steps = [], 0, 0
    vocab = av.ckpt.vocabulary
    for c in clips:
        a, b = c.speech_span_s()
        s0, s1 = int((a - PAD_S) * 16000), int((b + PAD_S) * 16000)
        audio = c.audio[s0:s1]
        feats = av.acoustic.encode(audio)
        r = av.recognize(audio, c.frames, c.stamps_s, a - PAD_S)
        sp = av.speakers(c.frames, c.stamps_s, audio, a - PAD_S)
        out = run(av.ckpt.visual, sp.tracks[sp.best()].crops)
        hyps = {
            "audio": av.transcribe(feats, None, "audio"),
            "av (mtcnn, lips gated)": r.text,
            "lips forced (static w=1)": av.transcribe(feats, out, "static"),
        }
        for k, h in hyps.items():
            e = count_errors(c.text, h, normalizer=norm)
            totals[k][0] += e.edits
            totals[k][1] += e.words
        rows.append({"ref": c.text, **hyps, "speaker_prob": round(r.gate.user, 3)})
        times = sp.tracks[sp.best()].times_s
        pred = out.word_logits.argmax(-1)
        for w0, w1, word in c.words:
            inside = (times >= w0) & (times < w1)
            steps += int(inside.sum())
            if word in vocab:
                steps_right += int((pred[inside] == vocab.index(word) + 1).sum())
    in_vocab = sorted({w for c in clips for *_, w in c.words if w in vocab})
    return {
        "wer": {k: round(e / max(n, 1), 4) for k, (e, n) in totals.items()},
        "edits_words": totals,
        "lips_word_steps_right": {"right": steps_right, "in_word_steps": steps,
                                  "grid_words_in_visual_vocabulary": in_vocab},
        "per_clip": rows,
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data/av"))
    p.add_argument("--out", type=Path, default=Path("bench/results/avsr_real_faces.json"))
    p.add_argument("--save", action="store_true", help="store the synchrony fit (all cases)")
    p.add_argument("--no-wer", action="store_true", help="skip the Whisper decodes")
    args = p.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    clips = load_folder(args.data)
    cases, counts = build_cases(clips, MtcnnDetector())
    report = {"data": str(args.data), "clips": [c.name for c in clips], "faces": counts}
    report["who_spoke_leave_one_clip_out"] = who_spoke(cases)
    full = fit_logistic(*_training_set(cases))
    report["synchrony_fit_all_cases"] = {"weights": full.weights, "bias": full.bias}
    if args.save:
        CALIBRATION.write_text(
            json.dumps({**report["synchrony_fit_all_cases"],
                        "features": ["sync", "motion"],
                        "written_by": "bench/avsr_real.py --save",
                        "data": [c.name for c in clips]}, indent=1) + "\n"
        )  # fmt: skip
    if not args.no_wer:
        report["wer"] = wer_table(clips)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=list) + "\n")
    text = format_report(report)
    args.out.with_suffix(".txt").write_text(text + "\n")
    print(text)


def format_report(r: dict) -> str:
    f1, f2 = r["faces"]["one face per clip"], r["faces"]["two faces side by side"]
    w = r["who_spoke_leave_one_clip_out"]
    lines = [
        f"Real talking faces ({len(r['clips'])} GRID clips, {r['data']}); development clips",
        "",
        f"face found: {f1['frames_with_a_face']}/{f1['frames']} frames "
        f"({100 * f1['frames_with_a_face'] / f1['frames']:.1f}%), faces per frame "
        f"{f1['faces_per_frame']}; two faces side by side: both found on "
        f"{f2['frames_with_both_faces']}/{f2['frames']} frames, per frame {f2['faces_per_frame']}",
        "",
        "who spoke (synchrony logistic fitted leave-one-clip-out):",
        f"  on camera:  {w['on camera']['right']}/{w['on camera']['cases']} "
        f"({100 * w['on camera']['accuracy']:.1f}%)",
        f"  off camera: {w['off camera']['right']}/{w['off camera']['cases']} "
        f"({100 * w['off camera']['accuracy']:.1f}%)",
    ]
    for k, v in w["by case"].items():
        lines.append(f"    {k}: {v['right']}/{v['cases']}")
    if "wer" in r:
        lines += ["", "WER over the 10 utterances (Whisper tiny.en greedy):"]
        for k, v in r["wer"]["wer"].items():
            e, n = r["wer"]["edits_words"][k]
            lines.append(f"  {k}: {100 * v:.1f}% ({e}/{n})")
        s = r["wer"]["lips_word_steps_right"]
        lines.append(
            f"  lips alone: {s['right']}/{s['in_word_steps']} in-word 25 Hz steps get the right "
            "word (GRID words the visual model knows: "
            + ", ".join(s["grid_words_in_visual_vocabulary"])
            + ")"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
