import pytest

from perception.errors import ConfigError, ModelNotFoundError
from perception.speech.whisper_backend import WhisperOptions, model_path, resolve_device


def test_options_are_checked():
    with pytest.raises(ConfigError, match="beam_size"):
        WhisperOptions(beam_size=0)


def test_model_path_takes_a_pt_file_or_a_card_name(tmp_path, store):
    own = tmp_path / "small.pt"
    own.write_bytes(b"x")
    assert model_path(str(own), store) == own
    with pytest.raises(ModelNotFoundError, match="no model card named 'nope'"):
        model_path("nope", store)


def test_auto_device_is_what_torch_sees():
    import torch

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
