import pytest
import torch

from perception.errors import ConfigError
from perception.vision.mentor import Mentor, MentorConfig

CFG = MentorConfig(feature_dim=24, embed_dim=8)


def _templates(n: int, k: int = 5) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randn(k, CFG.feature_dim, generator=g) + i for i in range(n)]


def _features(b: int) -> torch.Tensor:
    return torch.randn(b, CFG.feature_dim, generator=torch.Generator().manual_seed(1))


def test_shapes_one_unit_kernel_per_language_and_an_unknown_logit():
    mentor = Mentor(CFG).eval()
    kernels = mentor.kernels(_templates(3))
    assert kernels.shape == (3, CFG.embed_dim)
    torch.testing.assert_close(kernels.norm(dim=1), torch.ones(3))
    logits = mentor(_features(2), kernels)
    assert logits.shape == (2, 4)
    torch.testing.assert_close(logits[:, 3], mentor.unknown_logit.expand(2))
    assert logits[:, :3].abs().max() <= CFG.scale + 1e-4  # scaled cosine


def test_guide_is_invariant_to_template_order_and_count_agnostic():
    mentor = Mentor(CFG).eval()
    t = _templates(1, 6)[0]
    with torch.no_grad():
        a, b, c = mentor.guide(t), mentor.guide(t.flip(0)), mentor.guide(t[:3])
    torch.testing.assert_close(a, b)
    assert a.shape == (3 * CFG.embed_dim,) and c.shape == a.shape and not torch.allclose(a, c)


def test_adding_a_language_leaves_other_scores_unchanged():
    mentor = Mentor(CFG).eval()
    with torch.no_grad():
        two = mentor(_features(2), mentor.kernels(_templates(2)))
        three = mentor(_features(2), mentor.kernels(_templates(3)))
    torch.testing.assert_close(two[:, :2], three[:, :2])


def test_region_that_matches_a_languages_templates_scores_highest_for_it():
    # with an identity-like embedding and no mapper correction, the finder is a cosine to the
    # templates' mean: a region equal to language 1's template mean must pick language 1
    cfg = MentorConfig(feature_dim=4, embed_dim=4, dropout=0.0)
    mentor = Mentor(cfg).eval()
    with torch.no_grad():
        mentor.embed.net[1].weight.copy_(torch.eye(4))
        mentor.embed.net[1].bias.zero_()
        for p in mentor.mapper.parameters():
            p.zero_()
    templates = [torch.eye(4)[i].expand(3, 4) + 0.01 * torch.randn(3, 4) for i in range(4)]
    with torch.no_grad():
        logits = mentor(torch.eye(4), mentor.kernels(templates))
    assert logits[:, :4].argmax(1).tolist() == [0, 1, 2, 3]


def test_scaler_fits_mean_and_std():
    mentor = Mentor(CFG)
    x = torch.randn(500, CFG.feature_dim) * 3 + 5
    mentor.embed.scaler.fit(x)
    z = mentor.embed.scaler(x)
    assert z.mean(0).abs().max() < 1e-4 and (z.std(0) - 1).abs().max() < 1e-3


def test_bad_sizes_are_refused():
    with pytest.raises(ConfigError, match="dropout"):
        MentorConfig(dropout=1.0)
    with pytest.raises(ConfigError, match="embed_dim"):
        MentorConfig(embed_dim=0)
