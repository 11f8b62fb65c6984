"""Microphone messages to mono samples: AudioChunk, mgonzs13's Audio(Stamped) in every PyAudio
format, ros-drivers' AudioData(Stamped) with AudioInfo; and the 16 kHz AudioStream over them."""

from __future__ import annotations

import numpy as np
import pytest

from perception.audio import resample
from perception.bag.types import writer_typestore
from perception.errors import ConfigError
from perception.ros import audio
from perception.ros.convert import FrameError
from perception.ros.inputs import AudioStream, check_live_type

MG = writer_typestore("mgonzs13")
RD = writer_typestore("ros-drivers")
RNG = np.random.default_rng(1)
STEREO = (RNG.standard_normal((512, 2)) * 0.2).clip(-0.99, 0.99).astype(np.float32)  # (N, 2)


def _header(store):
    Header, Time = (store.types[t] for t in ("std_msgs/msg/Header", "builtin_interfaces/msg/Time"))
    return Header(stamp=Time(sec=2, nanosec=0), frame_id="mic")


def _audio_stamped(pcm: np.ndarray, fmt: int, channels: int, rate: int):
    """mgonzs13's AudioStamped with ``pcm`` (interleaved) in the array ``fmt`` names."""
    T = MG.types
    arrays = {name: np.zeros(0, dtype) for name, dtype in audio.PYAUDIO_FORMATS.values()}
    if fmt in audio.PYAUDIO_FORMATS:
        arrays[audio.PYAUDIO_FORMATS[fmt][0]] = pcm
    info = T["audio_common_msgs/msg/AudioInfo"](
        format=fmt, channels=channels, rate=rate, chunk=pcm.size // max(channels, 1)
    )
    data = T["audio_common_msgs/msg/AudioData"](**arrays)
    return T["audio_common_msgs/msg/AudioStamped"](
        header=_header(MG), audio=T["audio_common_msgs/msg/Audio"](audio_data=data, info=info)
    )


def _quantise(x: np.ndarray, dtype) -> np.ndarray:
    if np.dtype(dtype).kind == "f":
        return x.astype(dtype)
    info = np.iinfo(dtype)
    scale = 2 ** (8 * np.dtype(dtype).itemsize - 1)
    offset = scale if info.min == 0 else 0
    return np.round(x * scale + offset).clip(info.min, info.max).astype(dtype)


@pytest.mark.parametrize("fmt", sorted(audio.PYAUDIO_FORMATS))
def test_audio_stamped_every_pyaudio_format_is_downmixed(fmt):
    dtype = audio.PYAUDIO_FORMATS[fmt][1]
    msg = _audio_stamped(_quantise(STEREO, dtype).reshape(-1), fmt, 2, 44100)
    block = audio.audio_stamped_to_block(msg)
    assert block.rate_hz == 44100 and block.samples.dtype == np.float32
    tolerance = (
        1 / 2 ** (8 * np.dtype(dtype).itemsize - 2) if np.dtype(dtype).kind != "f" else 1e-7
    )
    np.testing.assert_allclose(block.samples, STEREO.mean(axis=1), atol=tolerance)


def test_audio_stamped_bad_headers_are_errors():
    with pytest.raises(FrameError, match="format id 4"):  # paInt24: not in AudioData
        audio.audio_stamped_to_block(_audio_stamped(np.zeros(4, np.int16), 4, 1, 16000))
    with pytest.raises(FrameError, match="not a multiple of 2 channels"):
        audio.audio_stamped_to_block(_audio_stamped(np.zeros(5, np.int16), 8, 2, 16000))
    with pytest.raises(FrameError, match="0 channels"):
        audio.audio_stamped_to_block(_audio_stamped(np.zeros(4, np.int16), 8, 0, 16000))


def _audio_info(channels=2, rate=48000, sample_format="S16LE", coding="wave"):
    return RD.types["audio_common_msgs/msg/AudioInfo"](
        channels=channels,
        sample_rate=rate,
        sample_format=sample_format,
        bitrate=0,
        coding_format=coding,
    )


def _audio_data_stamped(data: bytes):
    T = RD.types
    payload = T["audio_common_msgs/msg/AudioData"](data=np.frombuffer(data, np.uint8))
    return T["audio_common_msgs/msg/AudioDataStamped"](header=_header(RD), audio=payload)


@pytest.mark.parametrize(
    "sample_format, dtype", [("S16LE", "<i2"), ("S16BE", ">i2"), ("F32LE", "<f4"), ("U8", "u1")]
)
def test_ros_drivers_audio_data_is_read_with_its_audio_info(sample_format, dtype):
    fmt = audio.audio_info_to_format(_audio_info(sample_format=sample_format))
    assert fmt == audio.PcmFormat(48000, 2, dtype)
    pcm = _quantise(STEREO, np.dtype(dtype).newbyteorder("=")).astype(dtype)
    block = audio.audio_data_stamped_to_block(_audio_data_stamped(pcm.tobytes()), fmt)
    assert block.rate_hz == 48000
    np.testing.assert_allclose(block.samples, STEREO.mean(axis=1), atol=1 / 64)


def test_ros_drivers_needs_info_and_wave_coding():
    msg = _audio_data_stamped(np.zeros(8, np.int16).tobytes())
    with pytest.raises(FrameError, match="before any audio_common_msgs/msg/AudioInfo"):
        audio.audio_data_stamped_to_block(msg, None)
    with pytest.raises(FrameError, match="format:=wave"):
        audio.audio_info_to_format(_audio_info(coding="mp3"))
    with pytest.raises(FrameError, match="S24LE"):
        audio.audio_info_to_format(_audio_info(sample_format="S24LE"))
    odd = _audio_data_stamped(b"\x00\x01\x02")
    with pytest.raises(FrameError, match="not a multiple"):
        audio.audio_data_stamped_to_block(odd, audio.PcmFormat(16000, 1, "<i2"))


def test_mgonzs13_audio_data_under_the_ros_drivers_name_is_told_apart():
    typed = MG.types["audio_common_msgs/msg/AudioData"](
        **{name: np.zeros(0, d) for name, d in audio.PYAUDIO_FORMATS.values()}
    )
    with pytest.raises(FrameError, match="mgonzs13's definition"):
        audio.audio_data_to_block(typed, audio.PcmFormat(16000, 1, "<i2"))


def test_audio_stream_resamples_to_16k_and_survives_a_bad_message():
    rate, chunk = 48000, 1024
    mono = (np.sin(np.arange(rate) * 2 * np.pi * 440 / rate) * 0.5).astype(np.float32)
    pcm = _quantise(np.repeat(mono[:, None], 2, axis=1), np.int16).reshape(-1)
    stream, out = AudioStream("audio_common_msgs/msg/AudioStamped"), []
    for i in range(0, mono.size, chunk):
        out.append(stream.feed(_audio_stamped(pcm[2 * i : 2 * (i + chunk)], 8, 2, rate)))
        if i == 10 * chunk:
            with pytest.raises(FrameError):
                stream.feed(_audio_stamped(pcm[:4], 4, 2, rate))
    got = np.concatenate([*out, stream.flush()])
    expected = resample(_quantise(mono, np.int16).astype(np.float32) / 32768, rate, 16000)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_audio_stream_takes_the_format_from_audio_info():
    stream = AudioStream("audio_common_msgs/msg/AudioDataStamped")
    stream.set_info(_audio_info(channels=1, rate=16000))
    samples = np.array([0, 16384, -16384, 32767], np.int16)
    got = stream.feed(_audio_data_stamped(samples.tobytes()))
    np.testing.assert_allclose(got, samples / 32768)


def test_live_types_are_checked_with_the_choices_named():
    assert check_live_type(
        "audio_common_msgs/AudioStamped", ("audio_common_msgs/msg/AudioStamped",), "t"
    ) == ("audio_common_msgs/msg/AudioStamped")
    with pytest.raises(ConfigError, match="bag replay only"):
        check_live_type("audio_common_msgs/msg/AudioDataStamped", ("x/msg/Y",), "audio_type")
    with pytest.raises(ConfigError, match="expected one of"):
        AudioStream("std_msgs/msg/String")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_float_message_with_nan_or_inf_is_rejected_and_the_stream_goes_on(bad):
    pcm = STEREO.copy()
    pcm[7, 1] = bad
    stream = AudioStream("audio_common_msgs/msg/AudioStamped")
    with pytest.raises(FrameError, match="1 of 512 samples are NaN or infinite"):
        stream.feed(_audio_stamped(pcm.reshape(-1), 1, 2, 16000))
    good = stream.feed(_audio_stamped(STEREO.reshape(-1), 1, 2, 16000))
    assert np.isfinite(good).all() and good.size > 0
