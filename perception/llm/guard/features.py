"""Text features for the compact detectors: frozen MiniLM sentence embeddings plus a few
surface statistics.

Owns the embedding of a text of any length: the text is cut into windows of at most
``window_tokens`` word pieces; each window is embedded as all-MiniLM-L6-v2 was trained (mean
pooling over tokens, L2 normalised); the text's feature is the mean and the element-wise max over
its windows (so one injected sentence in a long transcript still shows in the max), followed by
surface statistics that mark obfuscated text (symbols, digits inside words, word pieces per
word). The ``hybrid`` kind (:class:`Hybrid`) also runs a fine-tuned copy of MiniLM's top layers
and a logit per detector (fitted by :mod:`perception.llm.guard.finetune`) on the frozen lower
layers' output and appends each detector's max logit over the windows, so heads over frozen
features and heads over fine-tuned logits share one feature row. It knows nothing about labels
or how heads are fitted.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from perception.errors import PerceptionError, require
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
    """How texts become features: the embedding card (or HF folder), the window size, and
    ``kind``: ``frozen`` (MiniLM as trained; features [mean | max | stats], FEATURE_DIM) or
    ``hybrid`` (the same, then the max over windows of ``tasks`` logits from a fine-tuned copy of
    the top ``tuned_layers`` layers and a linear head)."""

    model: str = EMBEDDING_CARD
    window_tokens: int = 128
    batch_windows: int = 32
    kind: Literal["frozen", "hybrid"] = "frozen"
    tuned_layers: int = 0
    tasks: int = 0


class Pooled(torch.nn.Module):
    """MiniLM → mean pooling over real tokens → L2 normalisation, as all-MiniLM-L6-v2 was
    trained: (B, T) ids and mask → (B, 384)."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return masked_mean(hidden, attention_mask)  # (B, 384)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(self.pool(input_ids, attention_mask), dim=-1)


class Tuned(Pooled):
    """The fine-tuned guard as trained: (B, T) → (B, 384 + tasks) = [normalised mean embedding |
    one logit per detector from a linear head on the mean embedding]."""

    def __init__(self, encoder: torch.nn.Module, tasks: int) -> None:
        super().__init__(encoder)
        self.head = torch.nn.Linear(EMBED_DIM, tasks)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pooled = self.pool(input_ids, attention_mask)
        normed = torch.nn.functional.normalize(pooled, dim=-1)
        return torch.cat([normed, self.head(pooled)], dim=-1)


def layer_mask(encoder: torch.nn.Module, mask: torch.Tensor, hidden: torch.Tensor):
    """The attention mask MiniLM's layers take, in the form its attention kernel expects."""
    ext, _ = encoder._create_attention_masks(
        attention_mask=mask,
        encoder_attention_mask=None,
        embedding_output=hidden,
        encoder_hidden_states=None,
        cache=None,
    )
    return ext


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, C) mean of (B, T, C) over the tokens where the (B, T) mask is 1."""
    m = mask[..., None].to(hidden.dtype)  # (B, T, 1)
    return (hidden * m).sum(1) / m.sum(1)


class Hybrid(Pooled):
    """Frozen MiniLM and a fine-tuned copy of its top ``layers`` layers on the same lower layers:
    (B, T) → (B, 384 + tasks) = [frozen normalised mean embedding | tuned logits]."""

    def __init__(self, encoder: torch.nn.Module, layers: int, tasks: int) -> None:
        super().__init__(encoder)
        self.top = torch.nn.ModuleList(copy.deepcopy(list(encoder.encoder.layer[-layers:])))
        self.head = torch.nn.Linear(EMBED_DIM, tasks)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        )
        frozen = masked_mean(out.last_hidden_state, attention_mask)
        hidden = out.hidden_states[-len(self.top) - 1]  # (B, T, 384) below the tuned layers
        ext = layer_mask(self.encoder, attention_mask, hidden)
        for layer in self.top:
            hidden = layer(hidden, attention_mask=ext)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        logits = self.head(masked_mean(hidden, attention_mask))
        return torch.cat([torch.nn.functional.normalize(frozen, dim=-1), logits], dim=-1)


def hybrid_state(tuned: dict[str, torch.Tensor], layers: int, depth: int) -> dict:
    """:class:`Tuned` state-dict entries of the top ``layers`` of ``depth`` → :class:`Hybrid`
    keys (``encoder.encoder.layer.{depth - layers + i}.`` → ``top.{i}.``)."""
    out = {}
    for key, value in tuned.items():
        for i in range(layers):
            key = key.replace(f"encoder.encoder.layer.{depth - layers + i}.", f"top.{i}.")
        out[key] = value.float()
    return out


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


def feature_dim(options: FeatureOptions) -> int:
    """Width of a text's feature row under ``options``."""
    return FEATURE_DIM + (options.tasks if options.kind == "hybrid" else 0)


def tuned_key(tuned: dict[str, torch.Tensor]) -> str:
    """A short checksum of tuned parameters ("" for none), so cached features name them."""
    if not tuned:
        return ""
    digest = hashlib.sha256()
    for name in sorted(tuned):
        digest.update(name.encode() + tuned[name].detach().cpu().numpy().tobytes())
    return digest.hexdigest()[:12]


class Embedder:
    """Texts → (B, feature_dim) float32 features, on the CPU by default. ``tuned``: the
    fine-tuned parameters (top layers and head, :class:`Tuned` state-dict keys) when
    ``options.kind`` is ``hybrid``."""

    def __init__(
        self,
        options: FeatureOptions | None = None,
        store: ModelStore | None = None,
        tuned: dict[str, torch.Tensor] | None = None,
    ) -> None:
        transformers = require("transformers", "llm")
        self.options = options or FeatureOptions()
        path = Path(self.options.model)
        folder = path if path.is_dir() else (store or ModelStore()).resolve(self.options.model)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
        self.model = transformers.AutoModel.from_pretrained(str(folder)).eval()
        self.net: Pooled = Pooled(self.model)
        self.tuned_key = tuned_key(tuned or {})
        if self.options.kind == "hybrid":
            layers, depth = self.options.tuned_layers, len(self.model.encoder.layer)
            self.net = Hybrid(self.model, layers, self.options.tasks)
            self._load_tuned(hybrid_state(tuned or {}, layers, depth))
        self.net.eval()

    def _load_tuned(self, state: dict[str, torch.Tensor]) -> None:
        """Load the tuned layers and head; every one of their parameters must be given."""
        result = self.net.load_state_dict(state, strict=False)
        missing = [k for k in result.missing_keys if k.startswith(("top.", "head."))]
        if missing or result.unexpected_keys:
            raise PerceptionError(
                f"the bundle's tuned weights do not fit a {self.options.tuned_layers}-layer "
                f"hybrid guard: missing {missing[:3]}, unexpected {result.unexpected_keys[:3]}; "
                "retrain it with `perception guard finetune`"
            )

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
        """(W, C) outputs of :attr:`net` for token windows (C = 384, or 384 + tasks hybrid)."""
        out = []
        for start in range(0, len(windows), self.options.batch_windows):
            batch = windows[start : start + self.options.batch_windows]
            width = max(len(w) for w in batch)
            ids = torch.zeros(len(batch), width, dtype=torch.long)  # (B, T), 0 = [PAD]
            mask = torch.zeros(len(batch), width, dtype=torch.long)
            for i, w in enumerate(batch):
                ids[i, : len(w)], mask[i, : len(w)] = torch.tensor(w), 1
            out.append(self.net(ids, mask).numpy())
        return np.concatenate(out, axis=0)

    def __call__(self, texts: list[str]) -> np.ndarray:
        """(len(texts), feature_dim) features: [mean over windows | max over windows | stats]
        frozen; the same then [max logit over windows] hybrid."""
        per_text = [self.windows(t) for t in texts]
        flat = [w for ws in per_text for w in ws]
        width = EMBED_DIM + (self.options.tasks if self.options.kind == "hybrid" else 0)
        embedded = self.embed_windows(flat) if flat else np.zeros((0, width), np.float32)
        rows, start = [], 0
        for text, ws in zip(texts, per_text, strict=True):
            e = embedded[start : start + len(ws)]
            start += len(ws)
            rows.append(self._combine(text, ws, e))
        dim = feature_dim(self.options)
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, dim), "f4")

    def _combine(self, text: str, windows: list[list[int]], e: np.ndarray) -> np.ndarray:
        """One text's feature row from its windows' outputs ``e`` (W, C)."""
        pieces = sum(len(w) - 2 for w in windows)
        unknown = sum(t == self.tokenizer.unk_token_id for w in windows for t in w)
        frozen, logits = e[:, :EMBED_DIM], e[:, EMBED_DIM:]
        stats = text_stats(text, pieces, unknown)
        tuned = [logits.max(0)] if logits.shape[1] else []
        return np.concatenate([frozen.mean(0), frozen.max(0), stats, *tuned])
