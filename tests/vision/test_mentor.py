import torch

from perception.vision.mentor import Mentor, MentorConfig, ink_cells

CFG = MentorConfig(channels=16, dynamic_hidden=4, code_dim=16)


def _templates(n: int, k: int = 5) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [(torch.rand(k, 1, 32, 128, generator=g) > 0.7).float() for _ in range(n)]


def _crops(b: int) -> torch.Tensor:
    return torch.rand(b, 1, 32, 128, generator=torch.Generator().manual_seed(1))


def test_shapes_one_map_per_language_and_an_unknown_logit():
    mentor = Mentor(CFG).eval()
    kernels = mentor.kernels(_templates(3))
    assert kernels.shape == (3, CFG.kernel_size)
    assert mentor.maps(_crops(2), kernels).shape == (2, 3, 8, 32)
    logits = mentor(_crops(2), kernels)
    assert logits.shape == (2, 4)
    torch.testing.assert_close(logits[:, 3], mentor.unknown_logit.expand(2))


def test_guide_is_invariant_to_template_order_and_count_agnostic():
    mentor = Mentor(CFG).eval()
    t = _templates(1, 6)[0]
    with torch.no_grad():
        a, b, c = mentor.guide(t), mentor.guide(t.flip(0)), mentor.guide(t[:3])
    torch.testing.assert_close(a, b)
    assert c.shape == a.shape and not torch.allclose(a, c)


def test_adding_a_language_leaves_other_scores_unchanged():
    mentor = Mentor(CFG).eval()
    with torch.no_grad():
        two = mentor(_crops(2), mentor.kernels(_templates(2)))
        three = mentor(_crops(2), mentor.kernels(_templates(3)))
    torch.testing.assert_close(two[:, :2], three[:, :2])


def test_region_score_reads_only_ink_cells():
    mentor = Mentor(CFG).eval()
    crops = torch.zeros(1, 1, 32, 128)
    crops[..., 8:24, 4:60] = 1.0
    ink = ink_cells(crops)
    assert ink.shape == (1, 1, 8, 32) and ink[0, 0, 4, 5] == 1 and ink[0, 0, 4, 20] == 0
    kernels = mentor.kernels(_templates(2))
    with torch.no_grad():
        maps = mentor.maps(crops, kernels)
        want = (maps * ink).sum((2, 3)) / ink.sum()
        torch.testing.assert_close(mentor(crops, kernels)[:, :2], want)
