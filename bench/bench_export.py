"""torch vs onnxruntime fp32 vs onnxruntime int8 (dynamic quantisation) per model, on CPU, in
one process, with each model's accuracy next to its speed.

    python bench/bench_export.py [--part speech,vision,guard] [--clips 8] [--threads 1]

speech: Whisper tiny.en AM-only (encoder + beam search 5, the recogniser's token budget) on
    rendered robot commands (the data set's voices, white noise at 10 dB): seconds per clip and
    WER; the peer is faster-whisper int8 (CTranslate2) on the same clips and weights.
vision: the PP-OCRv4 detector alone (probability map + DB boxes) on the test photos: images/s,
    and H-mean of its boxes against rapidocr's boxes (agreement with the reference detector, not
    against hand labels); the peer is rapidocr's own detector. Static int8 is calibrated on the
    first CALIBRATION_PHOTOS photos (sorted by name); every variant is scored on the others.
guard: the MiniLM feature model + prompt detectors on the written prompts: ms per prompt, the
    largest probability change and verdicts flipped at 0.5 against torch.
Ratios are to the peer measured in the same run; nothing fails on a time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from perception.eval.wer import corpus_wer
from perception.export.run import quantize_dynamic, quantize_static
from perception.models.store import ModelStore

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos"
CALIBRATION_PHOTOS = 5


def _row(name: str, seconds: list[float], base: float, accuracy: str, unit: str = "s") -> str:
    med = statistics.median(seconds)
    shown = f"{med * 1e3:7.1f} ms" if unit == "ms" else f"{med:6.3f} s"
    return f"| {name} | {shown} | {med / base:.2f} | {accuracy} |"


def _timed(fn, items) -> tuple[list[float], list]:
    fn(items[0])  # warm-up, not counted
    times, outs = [], []
    for item in items:
        t0 = time.perf_counter()
        outs.append(fn(item))
        times.append(time.perf_counter() - t0)
    return times, outs


# -- speech ------------------------------------------------------------------------------------
def spoken_commands(n: int, seed: int = 1234) -> list[tuple[str, np.ndarray]]:
    from perception.audio.tts import synthesize
    from perception.speech.corpus import robot_commands
    from perception.speech.dataset import VOICES, mix_at_snr

    rng = np.random.default_rng(seed)
    commands, voices = robot_commands(), list(VOICES.values())
    out = []
    for i in rng.permutation(len(commands))[:n]:
        speech = synthesize(commands[i], voice=voices[rng.integers(len(voices))])
        out.append((commands[i], mix_at_snr(speech, rng.standard_normal(len(speech)), 10.0)))
    return out


def bench_speech(n: int, threads: int, store: ModelStore, folder: Path) -> list[str]:
    from faster_whisper import WhisperModel

    from perception.speech.acoustic import AcousticModel
    from perception.speech.export import DECODER_FILE, ENCODER_FILE
    from perception.speech.whisper_backend import load_whisper, model_path
    from perception.speech.whisper_onnx import OnnxWhisper, dims_of, load_onnx_whisper

    clips = spoken_commands(n)
    refs, audios = [c[0] for c in clips], [c[1] for c in clips]
    checkpoint = model_path("whisper-tiny.en", store)
    model = load_whisper(checkpoint)
    fp32 = load_onnx_whisper(model, checkpoint, folder, threads=threads)
    for name in (ENCODER_FILE, DECODER_FILE):
        quantize_dynamic(folder / name)
    int8 = OnnxWhisper(folder, dims_of(model), threads=threads, variant=".int8")
    ct2 = WhisperModel(str(checkpoint.parent / "ct2"), device="cpu", compute_type="int8",
                       cpu_threads=threads)  # fmt: skip

    def faster_whisper(audio):
        segments, _ = ct2.transcribe(audio, beam_size=5, without_timestamps=True,
                                     vad_filter=False, condition_on_previous_text=False,
                                     temperature=0.0)  # fmt: skip
        return " ".join(s.text for s in segments)

    peer, peer_texts = _timed(faster_whisper, audios)

    def am_only(onnx):
        am = AcousticModel(model, onnx=onnx)

        def run(audio):
            budget = min(96, int(np.ceil(8.0 * len(audio) / 16000)) + 8)
            return am.beam_search(am.encode(audio), 5, budget).hypotheses[0].text

        return run

    base = statistics.median(peer)
    peer_wer = corpus_wer(zip(refs, peer_texts, strict=True))
    rows = [_row("faster-whisper int8 (peer)", peer, base, f"WER {100 * peer_wer:.1f}%")]
    for name, onnx in (
        ("torch fp32", None),
        ("onnxruntime fp32", fp32),
        ("onnxruntime int8", int8),
    ):
        times, texts = _timed(am_only(onnx), audios)
        wer = corpus_wer(zip(refs, texts, strict=True))
        rows.append(_row(name, times, base, f"WER {100 * wer:.1f}%"))
    return rows


# -- vision ------------------------------------------------------------------------------------
def bench_vision(threads: int, store: ModelStore, folder: Path) -> list[str]:
    import sys

    import cv2
    import onnxruntime as ort

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_vision import peer as rapidocr_peer

    from perception.eval.detection import match_image, score
    from perception.vision import ppocr
    from perception.vision.postprocess import DbOptions, db_candidates

    photos = sorted(p for p in PHOTOS.iterdir() if p.suffix in (".jpg", ".jpeg"))
    rgb = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in photos]
    calibration, images = rgb[:CALIBRATION_PHOTOS], rgb[CALIBRATION_PHOTOS:]
    source = store.resolve("ppocr-v4-det")
    graph = folder / "detector_prob.onnx"
    graph.write_bytes(ppocr.load_graph(source, with_features=False).SerializeToString())
    int8_path = quantize_dynamic(graph)
    batches = [{"x": ppocr.prepare(im, 736, 2000).tensor} for im in calibration]
    static_path = quantize_static(graph, batches)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    sessions = {
        n: ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"])
        for n, p in (
            ("onnxruntime fp32", graph),
            ("onnxruntime int8 dynamic", int8_path),
            ("onnxruntime int8 static", static_path),
        )
    }
    module = ppocr.to_torch(source, with_features=False).eval()
    rapid = rapidocr_peer(threads)

    def ours(run):
        def detect(image):
            x = ppocr.prepare(image, 736, 2000).tensor
            return [
                c.polygon_px for c in db_candidates(run(x)[0, 0], DbOptions(), image.shape[:2])
            ]

        return detect

    def torch_run(x):
        with torch.no_grad():
            return module(torch.from_numpy(x)).numpy()

    runs = {"torch fp32": torch_run}
    runs.update({n: (lambda x, s=s: s.run(None, {"x": x})[0]) for n, s in sessions.items()})
    peer_times, peer_boxes = _timed(lambda im: rapid(im)[0], images)
    base = statistics.median(peer_times)
    rows = [_row("rapidocr detector (peer)", peer_times, base, "H-mean 1.000 (reference)")]
    for name, run in runs.items():
        times, boxes = _timed(ours(run), images)
        matches = [
            match_image(list(ref), [False] * len(ref), got)
            for ref, got in zip(peer_boxes, boxes, strict=True)
        ]
        rows.append(_row(name, times, base, f"H-mean {score(matches).hmean:.3f} vs rapidocr"))
    return rows


# -- guard -------------------------------------------------------------------------------------
def bench_guard(threads: int, folder: Path) -> list[str]:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_guard import texts

    from perception.llm.guard.detectors import Detectors
    from perception.llm.guard.export import OnnxEmbedder, export_embedder

    detectors, items = Detectors(), texts(60)
    torch_embedder = detectors.embedder
    fp32 = export_embedder(torch_embedder, folder / "guard_embedder.onnx")
    int8 = quantize_dynamic(fp32)
    variants = {
        "torch fp32": torch_embedder,
        "onnxruntime fp32": OnnxEmbedder(torch_embedder, fp32, threads),
        "onnxruntime int8": OnnxEmbedder(torch_embedder, int8, threads),
    }
    reference = None
    rows = []
    for name, embedder in variants.items():
        detectors.embedder = embedder
        times, probs = _timed(lambda t: detectors.scores([t])[0], items)
        flat = np.array([[p[k] for k in sorted(p)] for p in probs])
        if reference is None:
            reference, base = flat, statistics.median(times)
        flips = int(((flat >= 0.5) != (reference >= 0.5)).sum())
        change = float(np.abs(flat - reference).max())
        rows.append(_row(name, times, base, f"max |Δp| {change:.4f}, {flips} verdicts flipped",
                         "ms"))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="speech,vision,guard")
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    store = ModelStore()
    parts = args.part.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"CPU, {args.threads} thread(s) for torch, onnxruntime and the peers")
        if "speech" in parts:
            print(f"\nspeech, {args.clips} clips: | variant | median per clip | ratio to peer |"
                  " accuracy |")  # fmt: skip
            print("\n".join(bench_speech(args.clips, args.threads, store, folder)))
        if "vision" in parts:
            print(
                "\nvision, test photos: | variant | median per image | ratio to peer | agreement |"
            )
            print("\n".join(bench_vision(args.threads, store, folder)))
        if "guard" in parts:
            print("\nguard, 60 prompts: | variant | median per prompt | ratio to torch | change |")
            print("\n".join(bench_guard(args.threads, folder)))


if __name__ == "__main__":
    main()
