import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from perception.audio import SAMPLE_RATE, load_audio, resample, to_float32
from perception.audio.io import AudioError


def _tone(rate_hz: int, seconds: float = 1.0, freq_hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def test_int16_and_stereo_become_mono_float32():
    pcm = np.array([[32767, -32768], [0, 16384]], np.int16)  # (N=2, C=2)
    out = to_float32(pcm)
    assert out.dtype == np.float32 and out.shape == (2,)
    np.testing.assert_allclose(out, [(32767 - 32768) / 2 / 32768, 16384 / 2 / 32768])


def test_bad_sample_formats_are_refused():
    with pytest.raises(AudioError, match="int16 or float"):
        to_float32(np.zeros(4, np.uint8))
    with pytest.raises(AudioError, match="shape"):
        to_float32(np.zeros((2, 2, 2), np.float32))


def test_resample_keeps_duration_and_pitch():
    out = resample(_tone(44100), 44100, SAMPLE_RATE)
    assert abs(len(out) - SAMPLE_RATE) <= 1
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(out) - 440.0) < 2.0


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
def test_files_decode_to_16k_mono(tmp_path, fmt):
    path = tmp_path / f"tone.{fmt}"
    stereo = np.stack([_tone(22050), _tone(22050)], axis=1)
    sf.write(path, stereo, 22050)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / SAMPLE_RATE - 1.0) < 0.1  # mp3 adds encoder padding


def test_missing_and_garbage_files_are_clear_errors(tmp_path):
    with pytest.raises(AudioError, match="does not exist"):
        load_audio(tmp_path / "nope.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all" * 10)
    with pytest.raises(AudioError, match="could not decode"):
        load_audio(junk)


BAD_INPUTS = Path(__file__).resolve().parents[1] / "faults" / "data"  # sources in SOURCES.tsv


def test_a_damaged_header_rate_is_refused_at_once():
    # pocketsphinx's awful.wav: 441 samples at "1,092,676 Hz"; resampling them took a minute
    start = time.perf_counter()
    with pytest.raises(AudioError, match="1092676 Hz; expected 1000-384000 Hz"):
        load_audio(BAD_INPUTS / "pocketsphinx_awful.wav")
    assert time.perf_counter() - start < 5.0


def test_an_empty_file_is_an_error():
    with pytest.raises(AudioError, match="holds no samples"):
        load_audio(BAD_INPUTS / "pocketsphinx_null.wav")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_rejected_not_repaired(tmp_path, bad):
    samples = _tone(SAMPLE_RATE)
    samples[100:103] = bad
    path = tmp_path / "nan.wav"
    sf.write(path, samples, SAMPLE_RATE, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"3 of 16000 samples are NaN or infinite \(first at "):
        load_audio(path)
    with pytest.raises(AudioError, match="rejected, not repaired"):
        to_float32(samples)


def test_pcm16_refuses_nan_and_clips_the_rest():
    from perception.audio.io import to_pcm16  # added with the check

    np.testing.assert_array_equal(to_pcm16(np.array([0.0, 2.0, -2.0])), [0, 32767, -32767])
    with pytest.raises(AudioError, match="NaN"):
        to_pcm16(np.array([0.0, np.nan], np.float32))
