"""Text features for the compact detectors: frozen MiniLM sentence embeddings plus a few
surface statistics.

Owns the embedding of a text of any length: the text is cut into windows of at most
``window_tokens`` word pieces; each window is embedded as all-MiniLM-L6-v2 was trained (mean
pooling over tokens, L2 normalised); the text's feature is the mean and the element-wise max over
its windows (so one injected sentence in a long transcript still shows in the max), followed by
surface statistics that mark obfuscated text (symbols, digits inside words, word pieces per
word). It knows nothing about labels or heads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from perception.errors import require
from perception.models.store import ModelStore

EMBEDDING_CARD = "all-minilm-l6-v2"
EMBED_DIM = 384
STAT_NAMES = (
    "alpha_fraction",
    "digit_fraction",
    "symbol_fraction",
    "upper_fraction",
    "mixed_word_fraction",
    "pieces_per_word",
    "unknown_fraction",
    "log_chars",
)
FEATURE_DIM = 2 * EMBED_DIM + len(STAT_NAMES)
_MIXED = re.compile(r"(?=\w*[A-Za-z])(?=\w*\d)\w+")


@dataclass(frozen=True)
class FeatureOptions:
    """How texts become features: the embedding card (or HF folder) and the window size."""

    model: str = EMBEDDING_CARD
    window_tokens: int = 128
    batch_windows: int = 32


def text_stats(text: str, pieces: int, unknown: int) -> np.ndarray:
    """(len(STAT_NAMES),) surface statistics of ``text`` given its word-piece counts."""
    chars = max(len(text), 1)
    letters = [c for c in text if c.isalpha()]
    words = text.split() or [""]
    return np.array(
        [
            len(letters) / chars,
            sum(c.isdigit() for c in text) / chars,
            sum(not (c.isalnum() or c.isspace()) for c in text) / chars,
            sum(c.isupper() for c in letters) / max(len(letters), 1),
            sum(bool(_MIXED.fullmatch(w.strip(".,!?;:"))) for w in words) / len(words),
            pieces / len(words) / 4.0,
            unknown / max(pieces, 1),
            np.log1p(chars) / 10.0,
        ],
        dtype=np.float32,
    )


class Embedder:
    """Texts → (B, FEATURE_DIM) float32 features, on the CPU by default."""

    def __init__(
        self, options: FeatureOptions | None = None, store: ModelStore | None = None
    ) -> None:
        transformers = require("transformers", "llm")
        self.options = options or FeatureOptions()
        path = Path(self.options.model)
        folder = path if path.is_dir() else (store or ModelStore()).resolve(self.options.model)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
        self.model = transformers.AutoModel.from_pretrained(str(folder)).eval()

    def windows(self, text: str) -> list[list[int]]:
        """Token ids of each window of ``text``, each with [CLS] ... [SEP]."""
        tok = self.tokenizer
        ids = tok.encode(text, add_special_tokens=False) or [tok.unk_token_id]
        step = self.options.window_tokens
        return [
            [tok.cls_token_id, *ids[i : i + step], tok.sep_token_id]
            for i in range(0, len(ids), step)
        ]

    @torch.no_grad()
    def embed_windows(self, windows: list[list[int]]) -> np.ndarray:
        """(W, EMBED_DIM) mean-pooled, L2-normalised embeddings of token windows."""
        out = []
        for start in range(0, len(windows), self.options.batch_windows):
            batch = windows[start : start + self.options.batch_windows]
            width = max(len(w) for w in batch)
            ids = torch.zeros(len(batch), width, dtype=torch.long)  # (B, T), 0 = [PAD]
            mask = torch.zeros(len(batch), width, dtype=torch.long)
            for i, w in enumerate(batch):
                ids[i, : len(w)], mask[i, : len(w)] = torch.tensor(w), 1
            hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state  # (B,T,C)
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(out, axis=0)

    def __call__(self, texts: list[str]) -> np.ndarray:
        """(len(texts), FEATURE_DIM) features: [mean over windows | max over windows | stats]."""
        per_text = [self.windows(t) for t in texts]
        flat = [w for ws in per_text for w in ws]
        embedded = self.embed_windows(flat) if flat else np.zeros((0, EMBED_DIM), np.float32)
        rows, start = [], 0
        unk = self.tokenizer.unk_token_id
        for text, ws in zip(texts, per_text, strict=True):
            e = embedded[start : start + len(ws)]
            start += len(ws)
            pieces = sum(len(w) - 2 for w in ws)
            unknown = sum(t == unk for w in ws for t in w)
            rows.append(np.concatenate([e.mean(0), e.max(0), text_stats(text, pieces, unknown)]))
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, FEATURE_DIM), "f4")
