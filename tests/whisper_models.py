"""Small Whisper models with seeded random weights, for tests that need no checkpoint."""

import torch
from whisper.model import ModelDimensions, Whisper


def seeded_whisper(dims: ModelDimensions, std: float = 0.05, seed: int = 0) -> Whisper:
    """Every parameter drawn from N(0, std²): whisper leaves the decoder's positional embedding
    as torch.empty, so nothing may keep its constructor value."""
    torch.manual_seed(seed)
    model = Whisper(dims)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(std * torch.randn_like(p))
    return model.eval()
