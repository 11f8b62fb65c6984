"""Audio: decoding files, converting sample formats, resampling to the models' rate (whole or
chunk by chunk), speech synthesis with espeak-ng and flite, and the degradations that make rendered
speech sound recorded (speed, room, a far-away talker, a clipped microphone)."""

from perception.audio.io import SAMPLE_RATE, load_audio, resample, to_float32

__all__ = ["SAMPLE_RATE", "load_audio", "resample", "to_float32"]
