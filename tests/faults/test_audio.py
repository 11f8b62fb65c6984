"""Bad audio: damaged, truncated and empty files, odd sample values, rates and channel counts, at
the file loader, the command line and the ROS converters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perception.audio import SAMPLE_RATE, load_audio, to_float32
from perception.audio.io import AudioError, to_pcm16
from perception.ros import audio
from perception.ros.convert import FrameError
from perception.ros.inputs import AudioStream
from tests.ros.test_audio import _audio_stamped

pytestmark = pytest.mark.faults

DATA = Path(__file__).parent / "data"
TONE = (0.5 * np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)


def _encoded(tmp_path: Path, fmt: str) -> bytes:
    path = tmp_path / f"tone.{fmt}"
    sf.write(path, TONE, SAMPLE_RATE)
    return path.read_bytes()


def _cuts(data: bytes) -> dict[str, bytes]:
    noise = np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    return {
        "empty": b"",
        "16 bytes": data[:16],
        "44 bytes": data[:44],
        "10%": data[: len(data) // 10],
        "50%": data[: len(data) // 2],
        "magic then noise": data[:8] + noise,
    }


# what each damaged file gives: refused (AudioError) or the intact part of the tone
EXPECTED = {
    "wav": {"10%": "used", "50%": "used"},
    "flac": {"50%": "used"},
    "mp3": {"50%": "used"},
}


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
@pytest.mark.parametrize("cut", list(_cuts(b"")))
def test_damaged_files_are_refused_in_one_line_or_give_their_intact_part(
    tmp_path, ledger, fmt, cut
):
    path = tmp_path / f"bad.{fmt}"
    path.write_bytes(_cuts(_encoded(tmp_path, fmt))[cut])
    outcome = EXPECTED[fmt].get(cut, "refused")
    if outcome == "refused":
        with pytest.raises(AudioError) as info:
            load_audio(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    else:
        samples = load_audio(path)
        assert 0 < samples.size < SAMPLE_RATE and np.isfinite(samples).all()
        assert np.abs(samples).max() <= 0.52  # the tone's amplitude, plus codec ripple
    ledger.tried(f"audio file ({fmt})", outcome)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("pocketsphinx_awful.wav", "1092676 Hz; expected 1000-384000 Hz"),
        ("pocketsphinx_bad.wav", "ffmpeg could not decode it"),
        ("pocketsphinx_evil.wav", "ffmpeg could not decode it"),
        ("pocketsphinx_null.wav", "holds no samples"),
    ],
)
def test_public_broken_wavs_are_refused(ledger, name, why):
    with pytest.raises(AudioError, match=why):
        load_audio(DATA / name)
    ledger.tried("audio file (public broken)", "refused")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["start", "middle", "end", "all"])
def test_non_finite_samples_are_rejected_at_every_entry(tmp_path, ledger, bad, where):
    samples = TONE.copy()
    span = {"start": slice(0, 1), "middle": slice(8000, 8100), "end": slice(-1, None)}
    samples[span.get(where, slice(None))] = bad
    path = tmp_path / "x.wav"
    sf.write(path, samples, SAMPLE_RATE, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN or infinite"):
        load_audio(path)
    with pytest.raises(AudioError, match="rejected, not repaired"):
        to_float32(samples)
    with pytest.raises(AudioError, match="NaN"):
        to_pcm16(samples)
    ledger.tried("audio samples (non-finite)", "refused")


@pytest.mark.parametrize(
    "kind", ["dc 0.5", "dc -1", "silence", "clipped int16", "clipped float 1.5", "one sample"]
)
def test_odd_but_finite_signals_are_used(tmp_path, ledger, kind):
    signal = {
        "dc 0.5": np.full(SAMPLE_RATE, 0.5, np.float32),
        "dc -1": np.full(SAMPLE_RATE, -1.0, np.float32),
        "silence": np.zeros(SAMPLE_RATE, np.float32),
        "clipped int16": np.clip(TONE * 4, -1, 1),
        "clipped float 1.5": np.clip(TONE * 4, -1.5, 1.5),
        "one sample": np.array([0.25], np.float32),
    }[kind]
    path = tmp_path / "x.wav"
    sf.write(path, signal, SAMPLE_RATE, subtype="PCM_16" if "int16" in kind else "FLOAT")
    loaded = load_audio(path)
    assert loaded.shape == signal.shape and np.isfinite(loaded).all()
    pcm = to_pcm16(loaded)
    assert pcm.dtype == np.int16 and np.abs(pcm.astype(np.int32)).max() <= 32767
    ledger.tried("audio samples (odd values)", "used")


@pytest.mark.parametrize("rate_hz", [8000, 11025, 22050, 44100, 48000, 96000, 192000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_other_rates_and_channel_counts_become_16k_mono(tmp_path, ledger, rate_hz, channels):
    t = np.arange(rate_hz // 4) / rate_hz  # 0.25 s
    wave = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    path = tmp_path / "x.wav"
    sf.write(path, np.repeat(wave[:, None], channels, axis=1), rate_hz)
    loaded = load_audio(path)
    assert loaded.ndim == 1 and abs(len(loaded) - SAMPLE_RATE // 4) <= 1
    ledger.tried("audio rate/channels", "used")


@pytest.mark.parametrize("rate_hz", [1, 999, 384001, 1_092_676])
def test_header_rates_outside_the_range_are_refused(tmp_path, ledger, rate_hz):
    path = tmp_path / "x.wav"
    sf.write(path, np.zeros(64, np.int16), rate_hz)
    with pytest.raises(AudioError, match=f"the header says {rate_hz} Hz"):
        load_audio(path)
    ledger.tried("audio rate/channels", "refused")


@pytest.mark.model
def test_transcribe_counts_every_bad_file_and_transcribes_the_good_one(tmp_path, ledger, capsys):
    from perception.cli import main
    from tests.conftest import SAMPLE_WAV

    nan = tmp_path / "nan.wav"
    sf.write(nan, np.full(SAMPLE_RATE, np.nan, np.float32), SAMPLE_RATE, subtype="FLOAT")
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    bad = [DATA / f"pocketsphinx_{n}.wav" for n in ("awful", "bad", "evil", "null")]
    files = [*bad, nan, empty, tmp_path / "missing.flac", SAMPLE_WAV]
    code = main(["transcribe", *map(str, files), "--json", "--device", "cpu"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1 and [r["path"] for r in records] == [str(f) for f in files]
    assert all("error" in r and "\n" not in r["error"] for r in records[:-1])
    assert "charging station" in records[-1]["text"].lower()
    for _ in records[:-1]:
        ledger.tried("transcribe command", "counted")


_stamped = _audio_stamped  # mgonzs13's AudioStamped from (pcm, format id, channels, rate)


GOOD = (TONE[:1024] * 0.5).astype(np.float32)
BAD_MESSAGES = {
    "nan float32": (np.where(np.arange(1024) == 9, np.nan, GOOD).astype(np.float32), 1, 1, 16000),
    "inf float32": (np.full(1024, np.inf, np.float32), 1, 1, 16000),
    "unknown format id": (GOOD, 4, 1, 16000),
    "zero channels": (GOOD, 1, 0, 16000),
    "zero rate": (GOOD, 1, 1, 0),
    "odd samples for stereo": (GOOD[:1023], 1, 2, 16000),
}


@pytest.mark.parametrize("case", list(BAD_MESSAGES))
def test_a_bad_audio_message_is_refused_and_the_stream_goes_on(ledger, case):
    pcm, fmt, channels, rate = BAD_MESSAGES[case]
    stream = AudioStream("audio_common_msgs/msg/AudioStamped")
    before = stream.feed(_stamped(GOOD, 1, 1, 16000))
    with pytest.raises(FrameError) as info:
        stream.feed(_stamped(pcm, fmt, channels, rate))
    assert "\n" not in str(info.value)
    after = stream.feed(_stamped(GOOD, 1, 1, 16000))
    assert before.size + after.size > 0 and np.isfinite(after).all()
    ledger.tried("audio message (ROS)", "refused")


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMATS = st.sampled_from([*audio.PYAUDIO_FORMATS, 0, 3, 64])


@FAST
@given(
    fmt=FORMATS,
    channels=st.integers(-1, 8),
    rate=st.integers(-1, 200_000),
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=64),
)
def test_audio_converter_gives_finite_mono_or_a_frame_error(fmt, channels, rate, values):
    dtype = audio.PYAUDIO_FORMATS.get(fmt, (None, np.float32))[1]
    raw = np.array(values, np.float32)
    if np.dtype(dtype).kind != "f":
        info = np.iinfo(dtype)
        raw = np.nan_to_num(raw, posinf=info.max, neginf=info.min).clip(info.min, info.max)
    msg = _stamped(raw.astype(dtype), fmt, channels, rate)
    try:
        block = audio.audio_stamped_to_block(msg)
    except FrameError as exc:
        assert "\n" not in str(exc)
        return
    assert block.samples.dtype == np.float32 and np.isfinite(block.samples).all()
    assert block.samples.size * channels == raw.size and block.rate_hz == rate > 0
    assert np.abs(block.samples).max(initial=0) <= 1.0 or np.dtype(dtype).kind == "f"


@FAST
@given(
    sample_rate_hz=st.integers(-5, 100_000),
    channels=st.integers(-2, 4),
    samples=st.lists(st.integers(-32768, 32767), max_size=64),
)
def test_audio_chunk_converter_gives_mono_or_a_frame_error(sample_rate_hz, channels, samples):
    from types import SimpleNamespace

    msg = SimpleNamespace(
        sample_rate_hz=sample_rate_hz, channels=channels, samples=np.array(samples, np.int16)
    )
    try:
        block = audio.chunk_to_block(msg)
    except FrameError:
        assert channels < 1 or sample_rate_hz < 1 or len(samples) % channels
        return
    assert block.samples.size * channels == len(samples)
    assert np.abs(block.samples).max(initial=0) <= 1.0
