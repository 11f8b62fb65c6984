"""The acoustic model: Whisper encoder features, N-best beam search, and text scoring.

Owns everything that asks Whisper a question about one utterance: its features (optionally with
the encoder input trimmed to the utterance instead of a 30-second window), the N-best list with
per-token log-probabilities, the no-speech probability, and the log-probability of arbitrary
token sequences (used by the fusion methods). It knows nothing about LLMs or fusion.

Nothing here assumes English: the tokenizer, start-of-transcript sequence and language token come
from the checkpoint (multilingual or not) and the configured language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from perception.audio import SAMPLE_RATE

HOP = 160  # mel frames are 10 ms (whisper.audio.HOP_LENGTH)
TRIM_PAD_S = 1.0  # silence kept after the utterance when the encoder input is trimmed
FULL_WINDOW_S = 30.0  # what Whisper was trained on


@dataclass(frozen=True)
class ScoredTokens:
    """One decoded token sequence (without the start-of-transcript prompt or end token)."""

    tokens: tuple[int, ...]
    text: str
    token_logprobs: tuple[float, ...]
    sum_logprob: float

    @property
    def avg_logprob(self) -> float:
        """Mean over the tokens and the end token (whose log-probability ``sum_logprob`` has)."""
        return self.sum_logprob / (len(self.token_logprobs) + 1)


@dataclass(frozen=True)
class Features:
    """Encoder output for one utterance; ``n_frames`` is the encoder positions used."""

    states: torch.Tensor  # (1, n_frames, d_model)
    n_frames: int
    language: str


class AcousticModel:
    """Wraps a loaded openai-whisper model for one language."""

    def __init__(
        self, model, language: str | None = None, window_s: float = 10.0, fp16: bool = False
    ) -> None:
        import whisper.tokenizer as wt

        self.model = model.eval()
        self.window_s = window_s  # encoder input: at least this much (padded), at most 30 s
        self.device = next(model.parameters()).device
        # fp16 as openai-whisper does it: fp32 weights, half inputs (its layers cast weights to
        # the input's dtype and run layer norms in fp32)
        self.dtype = torch.float16 if fp16 else torch.float32
        self.language = language or ("en" if not model.is_multilingual else None)
        self._get_tokenizer = lambda lang: wt.get_tokenizer(
            model.is_multilingual,
            num_languages=model.num_languages,
            language=lang,
            task="transcribe",
        )
        self.tokenizer = self._get_tokenizer(self.language or "en")

    # -- features ------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, audio: np.ndarray) -> Features:
        """Encoder states for (N,) float32 16 kHz audio of at most 30 s."""
        import whisper

        mel = whisper.log_mel_spectrogram(
            torch.from_numpy(whisper.pad_or_trim(audio)), self.model.dims.n_mels
        ).to(self.device, self.dtype)  # (80, 3000)
        language = self.language or self._detect_language(mel)
        if self.tokenizer.language != language:
            self.tokenizer = self._get_tokenizer(language)
        if self.window_s >= FULL_WINDOW_S:
            return Features(self.model.encoder(mel[None]), mel.shape[-1] // 2, language)
        # Trimmed input: the utterance plus 1 s, but never under window_s. Measured on our dev
        # split, cutting right after the utterance makes Whisper repeat itself (WER 58% → 79%
        # on 20 noisy items) while a 10 s minimum kept the 30 s window's WER at 2.3× the speed.
        wanted = max(len(audio) / HOP + TRIM_PAD_S * 100, self.window_s * 100)
        frames = min(mel.shape[-1], 2 * math.ceil(wanted / 2))
        return Features(self._encode_trimmed(mel[None, :, :frames]), frames // 2, language)

    def _encode_trimmed(self, mel: torch.Tensor) -> torch.Tensor:
        """The encoder's forward with the positional embedding cut to the input's length."""
        enc = self.model.encoder
        x = F.gelu(enc.conv2(F.gelu(enc.conv1(mel)))).permute(0, 2, 1)  # (1, T, D)
        x = x + enc.positional_embedding[: x.shape[1]].to(x.dtype)
        for block in enc.blocks:
            x = block(x)
        return enc.ln_post(x)

    def _detect_language(self, mel: torch.Tensor) -> str:
        _, probs = self.model.detect_language(mel[None])
        return max(probs[0], key=probs[0].get)

    # -- decoding ------------------------------------------------------------------------------
    @property
    def prompt(self) -> tuple[int, ...]:
        return tuple(self.tokenizer.sot_sequence_including_notimestamps)

    def suppressed(self) -> list[int]:
        t = self.tokenizer
        specials = [t.sot, t.sot_prev, t.sot_lm, t.no_speech, t.transcribe, t.translate]
        timestamps = range(t.timestamp_begin, self.model.dims.n_vocab)
        return sorted(set(t.non_speech_tokens) | set(specials) | set(timestamps))

    def text_tokens(self, text: str) -> list[int]:
        """Whisper's tokens for a transcript (which starts with a space, as Whisper writes it)."""
        text = text.strip()
        return self.tokenizer.encode(" " + text) if text else []

    @torch.no_grad()
    def next_logprobs(
        self, features: Features, prefixes: list[list[int]], temperature: float = 1.0
    ) -> torch.Tensor:
        """Log-probabilities of the next token after each text-token prefix.

        Args:
            prefixes: token lists without the prompt, all of the same length.
            temperature: divides the logits (a calibrated temperature from UADF).
        Returns:
            (len(prefixes), n_vocab) log-probabilities with special tokens suppressed.
        """
        tokens = torch.tensor([list(self.prompt) + p for p in prefixes], device=self.device)
        states = features.states.expand(len(prefixes), -1, -1)
        logits = self.model.decoder(tokens, states)[:, -1].float() / temperature
        logits[:, self.suppressed()] = -math.inf
        return F.log_softmax(logits, dim=-1)

    @torch.no_grad()
    def teacher_forced_logits(self, features: Features, tokens: list[int]) -> torch.Tensor:
        """(len(tokens) + 1, n_vocab) raw logits predicting each token, then the end token."""
        ids = torch.tensor([list(self.prompt) + tokens], device=self.device)
        return self.model.decoder(ids, features.states)[0, len(self.prompt) - 1 :].float()

    @torch.no_grad()
    def sequence_logprobs(
        self, features: Features, sequences: list[list[int]], temperature: float = 1.0
    ) -> list[list[float]]:
        """Teacher-forced log-probability of every token of each sequence, from
        softmax(logits / temperature) without suppression (for calibration and fusion)."""
        if not sequences:
            return []
        width = max(len(s) for s in sequences)
        pad = self.tokenizer.eot
        rows = [list(self.prompt) + s + [pad] * (width - len(s)) for s in sequences]
        tokens = torch.tensor(rows, device=self.device)  # (B, P + width)
        states = features.states.expand(len(rows), -1, -1)
        logits = self.model.decoder(tokens, states).float() / temperature
        logp = F.log_softmax(logits, dim=-1)
        p = len(self.prompt)
        return [
            [logp[i, p - 1 + j, tok].item() for j, tok in enumerate(seq)]
            for i, seq in enumerate(sequences)
        ]

    @torch.no_grad()
    def no_speech_prob(self, features: Features) -> float:
        tokens = torch.tensor([list(self.tokenizer.sot_sequence)], device=self.device)
        logits = self.model.decoder(tokens, features.states)[0, 0].float()
        return F.softmax(logits, dim=-1)[self.tokenizer.no_speech].item()

    @torch.no_grad()
    def beam_search(
        self, features: Features, beam_size: int = 5, max_tokens: int = 96
    ) -> list[ScoredTokens]:
        """N-best by beam search, ranked by length-normalised log-probability (best first).

        Uses whisper's key/value cache hooks; the cache rows are re-indexed when beams reorder.
        """
        cache, hooks = self.model.install_kv_cache_hooks()
        try:
            return self._beam_search(features, beam_size, max_tokens, cache)
        finally:
            for hook in hooks:
                hook.remove()

    def _beam_search(
        self, features: Features, beam_size: int, max_tokens: int, cache: dict
    ) -> list[ScoredTokens]:
        eot, suppressed = self.tokenizer.eot, self.suppressed()
        tokens = torch.tensor([list(self.prompt)], device=self.device)  # (B, prompt + step)
        beams: list[tuple[list[int], list[float]]] = [([], [])]
        finished: list[tuple[list[int], list[float]]] = []  # token_logprobs end with the eot's
        for step in range(max_tokens):
            states = features.states.expand(len(beams), -1, -1)
            inp = tokens if step == 0 else tokens[:, -1:]
            logits = self.model.decoder(inp, states, kv_cache=cache)[:, -1].float()  # (B, V)
            logits[:, suppressed] = -math.inf
            if step == 0:  # no blank or empty start (whisper's SuppressBlank)
                logits[:, self.tokenizer.encode(" ") + [eot]] = -math.inf
            logp = F.log_softmax(logits, dim=-1)
            candidates = []
            for src, ((toks, lps), row) in enumerate(zip(beams, logp, strict=True)):
                top = torch.topk(row, beam_size + 1)
                for lp, tok in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                    candidates.append((sum(lps) + lp, src, toks + [tok], lps + [lp]))
            candidates.sort(key=lambda c: c[0], reverse=True)
            beams, sources = [], []
            for _, src, toks, lps in candidates:  # an ended candidate counts only if it ranks
                if toks[-1] == eot:  # above the last live beam kept (as whisper does)
                    finished.append((toks[:-1], lps))  # lps keeps the eot's log-probability
                    continue
                beams.append((toks, lps))
                sources.append(src)
                if len(beams) == beam_size:
                    break
            if len(finished) >= beam_size or not beams:
                break
            index = torch.tensor(sources, device=self.device)
            for module in cache:
                cache[module] = cache[module][index]
            new = torch.tensor([[b[0][-1]] for b in beams], device=self.device)
            tokens = torch.cat([tokens[index], new], dim=1)
        pool = finished or [(t, lps + [0.0]) for t, lps in beams]  # unfinished: no eot term
        ranked = sorted(pool, key=lambda b: sum(b[1]) / len(b[1]), reverse=True)
        return self._unique(ranked)[:beam_size]

    def _unique(self, ranked: list[tuple[list[int], list[float]]]) -> list[ScoredTokens]:
        seen, out = set(), []
        for tokens, lps in ranked:
            text = self.tokenizer.decode(tokens).strip()
            if text in seen:
                continue
            seen.add(text)
            out.append(ScoredTokens(tuple(tokens), text, tuple(lps[:-1]), sum(lps)))
        return out


def duration_s(audio: np.ndarray) -> float:
    return len(audio) / SAMPLE_RATE
