import torch

from perception.vision.mentor import Mentor, MentorConfig

CFG = MentorConfig(finder_channels=8, dynamic_hidden=4, code_dim=16, encoder_channels=8)


def _templates(n: int, k: int = 5) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [
        (
            torch.randn(k, 96, 16, 48, generator=g),
            torch.randn(k, 3, 64, 192, generator=g),
            (torch.rand(k, 1, 16, 48, generator=g) > 0.5).float(),
        )
        for _ in range(n)
    ]


def test_shapes_one_map_per_language():
    mentor = Mentor(CFG).eval()
    out = mentor(torch.randn(2, 96, 12, 16), torch.randn(2, 3, 48, 64), _templates(3))
    assert out.shape == (2, 3, 12, 16)
    assert mentor.kernels(_templates(3)).shape == (3, CFG.kernel_size)


def test_guide_is_invariant_to_template_order_and_count_agnostic():
    mentor = Mentor(CFG).eval()
    f, x, ink = _templates(1, 6)[0]
    f = mentor.shared(f, x)
    with torch.no_grad():
        a = mentor.guide(f, ink)
        b = mentor.guide(f.flip(0), ink.flip(0))
        c = mentor.guide(f[:3], ink[:3])
    torch.testing.assert_close(a, b)
    assert c.shape == a.shape


def test_adding_a_language_leaves_other_maps_unchanged():
    mentor = Mentor(CFG).eval()
    feats, image = torch.randn(1, 96, 8, 8), torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        two = mentor(feats, image, _templates(2))
        three = mentor(feats, image, _templates(3))
    torch.testing.assert_close(two, three[:, :2])
