"""The CTranslate2 → openai-whisper mapping, checked on a small random model (no weights needed):
the test builds CTranslate2 variables from a whisper model by the inverse mapping, converts them
back, and requires identical tensors and identical logits."""

import json

import numpy as np
import pytest
import torch
from whisper.model import ModelDimensions, Whisper

from perception.models.whisper_convert import convert_ct2_whisper
from perception.speech.whisper_backend import load_whisper
from tests.models.ct2_writer import write_ct2_model
from tests.whisper_models import seeded_whisper

DIMS = ModelDimensions(
    n_mels=80,
    n_audio_ctx=20,
    n_audio_state=32,
    n_audio_head=4,
    n_audio_layer=2,
    n_vocab=51864,
    n_text_ctx=16,
    n_text_state=32,
    n_text_head=4,
    n_text_layer=2,
)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float16).numpy()


def _ct2_block(sd: dict, src: str, dst: str, cross: bool) -> dict:
    a = f"{src}.attn"
    zeros = torch.zeros_like(sd[f"{a}.query.bias"])
    v = {
        f"{dst}/self_attention/layer_norm/gamma": _np(sd[f"{src}.attn_ln.weight"]),
        f"{dst}/self_attention/layer_norm/beta": _np(sd[f"{src}.attn_ln.bias"]),
        f"{dst}/self_attention/linear_0/weight": _np(
            torch.cat([sd[f"{a}.query.weight"], sd[f"{a}.key.weight"], sd[f"{a}.value.weight"]])
        ),
        f"{dst}/self_attention/linear_0/bias": _np(
            torch.cat([sd[f"{a}.query.bias"], zeros, sd[f"{a}.value.bias"]])
        ),
        f"{dst}/self_attention/linear_1/weight": _np(sd[f"{a}.out.weight"]),
        f"{dst}/self_attention/linear_1/bias": _np(sd[f"{a}.out.bias"]),
        f"{dst}/ffn/layer_norm/gamma": _np(sd[f"{src}.mlp_ln.weight"]),
        f"{dst}/ffn/layer_norm/beta": _np(sd[f"{src}.mlp_ln.bias"]),
        f"{dst}/ffn/linear_0/weight": _np(sd[f"{src}.mlp.0.weight"]),
        f"{dst}/ffn/linear_0/bias": _np(sd[f"{src}.mlp.0.bias"]),
        f"{dst}/ffn/linear_1/weight": _np(sd[f"{src}.mlp.2.weight"]),
        f"{dst}/ffn/linear_1/bias": _np(sd[f"{src}.mlp.2.bias"]),
    }
    if cross:
        c = f"{src}.cross_attn"
        v.update(
            {
                f"{dst}/attention/layer_norm/gamma": _np(sd[f"{src}.cross_attn_ln.weight"]),
                f"{dst}/attention/layer_norm/beta": _np(sd[f"{src}.cross_attn_ln.bias"]),
                f"{dst}/attention/linear_0/weight": _np(sd[f"{c}.query.weight"]),
                f"{dst}/attention/linear_0/bias": _np(sd[f"{c}.query.bias"]),
                f"{dst}/attention/linear_1/weight": _np(
                    torch.cat([sd[f"{c}.key.weight"], sd[f"{c}.value.weight"]])
                ),
                f"{dst}/attention/linear_1/bias": _np(
                    torch.cat([torch.zeros_like(sd[f"{c}.value.bias"]), sd[f"{c}.value.bias"]])
                ),
                f"{dst}/attention/linear_2/weight": _np(sd[f"{c}.out.weight"]),
                f"{dst}/attention/linear_2/bias": _np(sd[f"{c}.out.bias"]),
            }
        )
    return v


def whisper_to_ct2(model: Whisper) -> dict[str, np.ndarray]:
    """Inverse of the converter, written independently of it."""
    sd = model.state_dict()
    v = {
        "encoder/num_heads": np.array(model.dims.n_audio_head, np.int16),
        "decoder/num_heads": np.array(model.dims.n_text_head, np.int16),
        "encoder/position_encodings/encodings": _np(sd["encoder.positional_embedding"]),
        "decoder/position_encodings/encodings": _np(sd["decoder.positional_embedding"]),
        "decoder/embeddings/weight": _np(sd["decoder.token_embedding.weight"]),
        "encoder/layer_norm/gamma": _np(sd["encoder.ln_post.weight"]),
        "encoder/layer_norm/beta": _np(sd["encoder.ln_post.bias"]),
        "decoder/layer_norm/gamma": _np(sd["decoder.ln.weight"]),
        "decoder/layer_norm/beta": _np(sd["decoder.ln.bias"]),
    }
    for conv in ("conv1", "conv2"):
        v[f"encoder/{conv}/weight"] = _np(sd[f"encoder.{conv}.weight"])
        v[f"encoder/{conv}/bias"] = _np(sd[f"encoder.{conv}.bias"])
    for i in range(model.dims.n_audio_layer):
        v.update(_ct2_block(sd, f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False))
    for i in range(model.dims.n_text_layer):
        v.update(_ct2_block(sd, f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True))
    return v


@pytest.fixture()
def random_whisper() -> Whisper:
    return seeded_whisper(DIMS)


def test_conversion_round_trips_every_tensor_and_the_logits(tmp_path, random_whisper):
    ct2 = tmp_path / "ct2"
    ct2.mkdir()
    write_ct2_model(
        ct2 / "model.bin",
        "WhisperSpec",
        whisper_to_ct2(random_whisper),
        aliases={"decoder/projection/weight": "decoder/embeddings/weight"},
    )
    (ct2 / "config.json").write_text(json.dumps({"alignment_heads": [[1, 0], [1, 3]]}))
    converted = load_whisper(convert_ct2_whisper(ct2, tmp_path / "model.pt"))

    assert converted.dims == DIMS
    reference = {k: v.half().float() for k, v in random_whisper.state_dict().items()}
    for name, tensor in converted.state_dict().items():
        torch.testing.assert_close(tensor, reference[name], rtol=0, atol=0, msg=name)
    assert converted.alignment_heads.to_dense().nonzero().tolist() == [[1, 0], [1, 3]]

    random_whisper.load_state_dict(reference)
    mel = torch.randn(1, 80, 2 * DIMS.n_audio_ctx)
    tokens = torch.tensor([[50257, 50362, 100, 200]])
    with torch.no_grad():
        torch.testing.assert_close(converted(mel, tokens), random_whisper(mel, tokens))


def test_nonzero_key_bias_is_refused(tmp_path, random_whisper):
    variables = whisper_to_ct2(random_whisper)
    variables["encoder/layer_0/self_attention/linear_0/bias"][40] = 1.0  # inside the key third
    ct2 = tmp_path / "ct2"
    ct2.mkdir()
    write_ct2_model(ct2 / "model.bin", "WhisperSpec", variables)
    (ct2 / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="key has a non-zero bias"):
        convert_ct2_whisper(ct2, tmp_path / "model.pt")
