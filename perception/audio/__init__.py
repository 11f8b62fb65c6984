"""Audio input: decoding files, converting sample formats, resampling to the models' rate."""

from perception.audio.io import SAMPLE_RATE, load_audio, resample, to_float32

__all__ = ["SAMPLE_RATE", "load_audio", "resample", "to_float32"]
