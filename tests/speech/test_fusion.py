import math

import pytest
import torch

from perception.speech.fusion import entropy_nats, fit_temperature, fuse, uadf_weight


def test_weight_goes_to_zero_as_llm_becomes_one_hot():
    vocab = 50
    weights = []
    for sharpness in [0.0, 1.0, 4.0, 16.0, 64.0]:
        logits = torch.zeros(vocab)
        logits[3] = sharpness
        weights.append(uadf_weight(torch.softmax(logits, -1)).item())
    assert weights == sorted(weights, reverse=True)
    assert weights[-1] == pytest.approx(0.0, abs=1e-6)
    assert weights[0] == pytest.approx(1 / (1 + math.exp(-math.log(vocab))) - 0.5)
    one_hot = torch.zeros(vocab)
    one_hot[7] = 1.0
    assert uadf_weight(one_hot).item() == 0.0 and entropy_nats(one_hot).item() == 0.0


def test_fusion_lets_the_acoustic_model_decide_only_when_the_llm_is_unsure():
    p_asr = torch.tensor([0.1, 0.9])
    confident = torch.tensor([0.99, 0.01])
    unsure = torch.tensor([0.52, 0.48])
    assert fuse(confident, p_asr, uadf_weight(confident)).argmax().item() == 0
    assert fuse(unsure, p_asr, uadf_weight(unsure)).argmax().item() == 1


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_calibration_recovers_a_known_temperature(true_t):
    # Targets are drawn from softmax(z); the model reports logits z * true_t, so the
    # calibrating temperature is true_t (confidence then matches accuracy in expectation).
    gen = torch.Generator().manual_seed(0)
    z = 3.0 * torch.randn(20000, 12, generator=gen)
    targets = torch.multinomial(torch.softmax(z, -1), 1, generator=gen).squeeze(1)
    cal = fit_temperature(z * true_t, targets)
    assert cal.temperature == pytest.approx(true_t, rel=0.05)
    assert cal.ece_after < 0.02
    assert abs(cal.confidence_after - cal.token_accuracy) < 1e-3


def test_calibration_clamps_to_the_search_range():
    logits = torch.tensor([[10.0, 0.0], [10.0, 0.0]])
    assert fit_temperature(logits, torch.tensor([0, 0])).temperature == 0.1
    with pytest.raises(ValueError, match="empty"):
        fit_temperature(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
