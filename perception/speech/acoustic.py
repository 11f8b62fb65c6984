"""The acoustic model: Whisper encoder features, N-best beam search, and text scoring.

Owns everything that asks Whisper a question about one utterance: its features (optionally with
the encoder input trimmed to the utterance instead of a 30-second window), the N-best list with
per-token log-probabilities by openai-whisper's own beam search, the no-speech probability, and
the log-probability of arbitrary token sequences (used by the fusion methods and their guards),
with a key/value cache for sequences that share a prefix. It knows nothing about LLMs or fusion.

Nothing here assumes English: the tokenizer, start-of-transcript sequence and language token come
from the checkpoint (multilingual or not) and the configured language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
import torch.nn.functional as F

from perception.audio import SAMPLE_RATE
from perception.eval.wer import normalize

HOP = 160  # mel frames are 10 ms (whisper.audio.HOP_LENGTH)
TRIM_PAD_S = 1.0  # silence kept after the utterance when the encoder input is trimmed
FULL_WINDOW_S = 30.0  # what Whisper was trained on
# A hypothesis that says a run of this many words or more twice in a row is a decoding loop
# (LJ001-0027, real speech: "especially as regards the lower case letters" written twice and
# ranked first); "go go go" (runs of one word) stays a normal hypothesis.
LOOP_MIN_WORDS = 3


@dataclass(frozen=True)
class ScoredTokens:
    """One decoded token sequence (without the start-of-transcript prompt or end token).

    ``tokens`` may hold timestamp tokens (timestamp decoding); ``text`` never does.
    ``sum_logprob`` includes the end token's log-probability when the search finished the
    sequence; ``score`` is whisper's ranking score, ``sum_logprob / len(tokens)``.
    """

    tokens: tuple[int, ...]
    text: str
    token_logprobs: tuple[float, ...]
    sum_logprob: float
    score: float = 0.0

    @property
    def avg_logprob(self) -> float:
        """Mean over the tokens and the end token, as whisper reports ``avg_logprob``."""
        return self.sum_logprob / (len(self.token_logprobs) + 1)


@dataclass(frozen=True)
class NBest:
    """Beam search output: distinct-text candidates best first, and the no-speech probability
    read at the start-of-transcript position of the same decoder pass."""

    hypotheses: tuple[ScoredTokens, ...]
    no_speech_prob: float


@dataclass(frozen=True)
class Features:
    """Encoder output for one utterance; ``n_frames`` is the encoder positions used."""

    states: torch.Tensor  # (1, n_frames, d_model)
    n_frames: int
    language: str
    cross: object | None = None  # onnxruntime: the decoder's cross-attention cache
    language_prob: float = 1.0  # Whisper's probability of ``language`` (1.0 when it was fixed)


class AcousticModel:
    """Wraps a loaded openai-whisper model for one language, or for the language it hears in
    each utterance.

    ``language``: a code (``"de"``), ``None`` / ``"auto"`` (a multilingual model names each
    utterance's language from its language-token distribution), or codes separated by commas
    (``"en,de,fr"``: the choice is restricted to those, their probabilities renormalised). An
    English-only model always says ``"en"``.
    """

    def __init__(
        self,
        model,
        language: str | None = None,
        window_s: float = 10.0,
        fp16: bool = False,
        onnx=None,
    ) -> None:
        """``onnx``: an :class:`~perception.speech.whisper_onnx.OnnxWhisper` that then runs the
        encoder and the beam search's decoder steps (teacher-forced scoring stays on torch)."""
        import whisper.tokenizer as wt

        self.model = model.eval()
        self.onnx = onnx
        self.window_s = window_s  # encoder input: at least this much (padded), at most 30 s
        self.device = next(model.parameters()).device
        # fp16 as openai-whisper does it: fp32 weights, half inputs (its layers cast weights to
        # the input's dtype and run layer norms in fp32)
        self.dtype = torch.float16 if fp16 else torch.float32
        codes = [c.strip() for c in (language or "").split(",") if c.strip() not in ("", "auto")]
        if not model.is_multilingual:
            codes = ["en"]
        self.language = codes[0] if len(codes) == 1 else None  # None: detected per utterance
        self.allowed = tuple(codes) if len(codes) > 1 else ()
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
        language, prob = (self.language, 1.0) if self.language else self.detect_language(mel)
        if self.tokenizer.language != language:
            self.tokenizer = self._get_tokenizer(language)
        if self.window_s >= FULL_WINDOW_S:
            return self._features(mel[None], language, prob)
        # Trimmed input: the utterance plus 1 s, but never under window_s. Measured on our dev
        # split (20 noisy items, see README): the utterance + 1 s alone gave WER 59.5% against
        # 34.5% with a 10 s minimum, and the 10 s minimum encodes in a third of the 30 s time.
        wanted = max(len(audio) / HOP + TRIM_PAD_S * 100, self.window_s * 100)
        frames = min(mel.shape[-1], 2 * math.ceil(wanted / 2))
        return self._features(mel[None, :, :frames], language, prob)

    def _features(self, mel: torch.Tensor, language: str, prob: float = 1.0) -> Features:
        """Encoder states of (1, n_mels, F) mel frames on the configured runtime."""
        if self.onnx is not None:
            states, cross = self.onnx.encode(mel.float().cpu().numpy())
            states_t = torch.from_numpy(states).to(self.device, self.dtype)
            return Features(states_t, mel.shape[-1] // 2, language, cross, prob)
        return Features(self._encode_trimmed(mel), mel.shape[-1] // 2, language, None, prob)

    def _encode_trimmed(self, mel: torch.Tensor) -> torch.Tensor:
        """The encoder's forward with the positional embedding cut to the input's length."""
        enc = self.model.encoder
        x = F.gelu(enc.conv2(F.gelu(enc.conv1(mel)))).permute(0, 2, 1)  # (1, T, D)
        x = x + enc.positional_embedding[: x.shape[1]].to(x.dtype)
        for block in enc.blocks:
            x = block(x)
        return enc.ln_post(x)

    def detect_language(self, mel: torch.Tensor) -> tuple[str, float]:
        """The likeliest language of (n_mels, 3000) mel frames and its probability, among
        :attr:`allowed` when that is set (renormalised there); whisper's ``detect_language``
        (the language token's distribution after start-of-transcript, full 30 s window)."""
        _, found = self.model.detect_language(mel[None])
        probs = found[0]
        if self.allowed:
            unknown = [c for c in self.allowed if c not in probs]
            if unknown:
                raise ValueError(f"speech.asr.language: unknown language codes {unknown}")
            total = sum(probs[c] for c in self.allowed) or 1.0
            probs = {c: probs[c] / total for c in self.allowed}
        best = max(probs, key=probs.get)
        return best, float(probs[best])

    # -- decoding ------------------------------------------------------------------------------
    @property
    def prompt(self) -> tuple[int, ...]:
        """The start-of-transcript sequence that scoring uses (no timestamps)."""
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

    def text_score(self, features: Features, texts: list[str]) -> list[float]:
        """Whisper's score of each text as its beam search ranks candidates: the log-probability
        of the text's canonical tokens and the end token over the number of text tokens (no
        timestamps, temperature 1). A hypothesis of the N-best never outscores the best one."""
        rows = [self.text_tokens(t) + [self.tokenizer.eot] for t in texts]
        lps = self.sequence_logprobs(features, rows)
        return [sum(lp) / max(len(lp) - 1, 1) for lp in lps]

    def scorer(self, features: Features, temperature: float = 1.0) -> PrefixScorer:
        """A :class:`PrefixScorer` over this utterance."""
        return PrefixScorer(self, features, temperature)

    @torch.no_grad()
    def no_speech_prob(self, features: Features) -> float:
        """Probability of the no-speech token at the start-of-transcript position."""
        tokens = torch.tensor([list(self.tokenizer.sot_sequence)], device=self.device)
        logits = self.model.decoder(tokens, features.states)[0, 0].float()
        return F.softmax(logits, dim=-1)[self.tokenizer.no_speech].item()

    @torch.no_grad()
    def beam_search(
        self,
        features: Features,
        beam_size: int = 5,
        max_tokens: int = 96,
        timestamps: bool = False,
        previous_text: str = "",
    ) -> NBest:
        """N-best by openai-whisper's own beam search, best first.

        The search is whisper's ``DecodingTask`` with ``DecodingOptions(language, beam_size,
        without_timestamps=not timestamps, sample_len=max_tokens)`` and whisper's defaults
        (blank and non-speech suppression, timestamp rules, ranking by sum log-probability over
        length), so the best hypothesis equals ``whisper.decode`` on the same encoder states,
        token for token. What it adds: every finished candidate rather than the best one, and
        each token's log-probability as the search scored it.

        Args:
            features: encoder states of one utterance (any number of positions).
            timestamps: decode with timestamp tokens, as ``whisper.transcribe`` does.
            previous_text: text Whisper reads before the utterance (``DecodingOptions.prompt``,
                whisper's way to bias spelling and vocabulary); "" = none.
        """
        from whisper.decoding import DecodingOptions

        states_task, recording_beams = _decoding_classes()
        options = DecodingOptions(
            task="transcribe",
            language=features.language,
            beam_size=beam_size,
            without_timestamps=not timestamps,
            sample_len=max_tokens,
            fp16=self.dtype == torch.float16,
            prompt=" " + previous_text.strip() if previous_text.strip() else None,
        )
        task = states_task(self.model, options)
        if self.onnx is not None and features.cross is not None:
            from perception.speech.whisper_onnx import onnx_inference

            task.inference = onnx_inference(self.onnx, features.cross, len(task.initial_tokens))
        beams = recording_beams(beam_size, self.tokenizer.eot, task.inference)
        task.decoder = beams
        tokens = torch.tensor([task.initial_tokens], device=self.device).repeat(beam_size, 1)
        tokens, sum_logprobs, no_speech = task._main_loop(features.states, tokens)
        beams.finalize(tokens[None], sum_logprobs[None])
        ranked = []
        for full, total in beams.finished_sequences[0].items():
            body = full[task.sample_begin : -1]  # no prompt, no end token
            lps = beams.logprobs.get(full) or beams.logprobs.get(full[:-1], [])
            ranked.append((total / max(len(body), 1), body, lps[: len(body)], total))
        ranked.sort(key=lambda r: r[0], reverse=True)  # stable: whisper's arg-max on ties
        return NBest(demote_loops(self._unique(ranked)), float(no_speech[0]))

    def _unique(self, ranked: list) -> tuple[ScoredTokens, ...]:
        """One entry per distinct text, rank order kept."""
        seen, out = set(), []
        for score, tokens, lps, total in ranked:
            text = self.tokenizer.decode(list(tokens)).strip()
            if text in seen:
                continue
            seen.add(text)
            out.append(ScoredTokens(tuple(tokens), text, tuple(lps), total, score))
        return tuple(out)


def repeats_a_run(text: str, min_words: int = LOOP_MIN_WORDS) -> bool:
    """True when ``text`` says some run of ``min_words`` or more words twice in a row
    (punctuation and case ignored)."""
    words = normalize(text).split()
    for n in range(min_words, len(words) // 2 + 1):
        for i in range(len(words) - 2 * n + 1):
            if words[i : i + n] == words[i + n : i + 2 * n]:
                return True
    return False


def demote_loops(nbest: tuple[ScoredTokens, ...]) -> tuple[ScoredTokens, ...]:
    """The N-best with looping hypotheses (:func:`repeats_a_run`) moved after the others,
    each group in its rank order; a list of loops only is kept as it is."""
    loops = [h for h in nbest if repeats_a_run(h.text)]
    return tuple(h for h in nbest if h not in loops) + tuple(loops)


@cache
def _decoding_classes() -> tuple[type, type]:
    """whisper's decoding task and beam search, extended (imported on first use: importing the
    library must not load whisper)."""
    from whisper.decoding import BeamSearchDecoder, DecodingTask

    class StatesTask(DecodingTask):
        """whisper's decoding task fed encoder states directly (ours may be a trimmed window)."""

        def _get_audio_features(self, mel: torch.Tensor) -> torch.Tensor:
            return mel

    class RecordingBeams(BeamSearchDecoder):
        """whisper's beam search that also records, for every sequence it keeps or finishes,
        the log-probability of each token (the log-softmax of the filtered logits it ranked
        by)."""

        def reset(self) -> None:
            super().reset()
            self.logprobs: dict[tuple[int, ...], list[float]] = {}

        def update(self, tokens, logits, sum_logprobs):
            if self.finished_sequences is None:
                self.logprobs = {}
            logp = F.log_softmax(logits.float(), dim=-1)
            rows = {tuple(r): i for i, r in enumerate(tokens.tolist())}
            new_tokens, completed = super().update(tokens, logits, sum_logprobs)
            grown = [tuple(r) for r in new_tokens.tolist()]
            grown += [s for s in self.finished_sequences[0] if s not in self.logprobs]
            for seq in grown:
                row = rows.get(seq[:-1])
                if row is not None and seq not in self.logprobs:
                    history = self.logprobs.get(seq[:-1], [])
                    self.logprobs[seq] = history + [logp[row, seq[-1]].item()]
            return new_tokens, completed

    return StatesTask, RecordingBeams


class PrefixScorer:
    """Teacher-forced Whisper log-probabilities of token sequences that mostly share a growing
    prefix, with the decoder's key/value cache kept for that prefix.

    Fused decoding asks at every step for the probability of the text written so far and of
    that text extended by each LLM candidate; the rows differ from the text only in their last
    one or two tokens. The prefix (prompt + text tokens) is run through the decoder once and
    extended as the text grows; a candidate row costs the logits row already stored when it adds
    one token, and a decoder pass over its own last tokens otherwise (batched per shared prefix
    length). Results equal :meth:`AcousticModel.sequence_logprobs` up to float rounding.
    """

    def __init__(self, am: AcousticModel, features: Features, temperature: float = 1.0) -> None:
        self.am, self.states, self.temperature = am, features.states, temperature
        blocks = am.model.decoder.blocks
        self._self_attn = {m for b in blocks for m in (b.attn.key, b.attn.value)}
        self._live: dict = {}
        self._saved: dict = {}
        self._tokens: list[int] = []
        self._logits = torch.empty(0)
        self._run(list(am.prompt), 0)

    @torch.no_grad()
    def _run(self, new: list[int], keep: int) -> None:
        """Keep ``keep`` prompt + text positions of the cache and feed ``new`` after them."""
        p = len(self.am.prompt)
        self._load(keep, 1)
        logits = self._feed([new])[0]
        self._saved = dict(self._live)
        rows = self._logits[: max(keep - p + 1, 0)]
        self._logits = torch.cat([rows, logits[max(p - 1 - keep, 0) :]])  # row j predicts text j

    def _load(self, keep: int, batch: int) -> None:
        """Make the saved cache, cut to ``keep`` positions and repeated ``batch`` times, live
        (in the saved order: whisper reads the position offset from the first entry)."""
        self._live = {
            m: v[:, :keep].expand(batch, -1, -1) if m in self._self_attn else v
            for m, v in self._saved.items()
        }

    def _feed(self, rows: list[list[int]]) -> torch.Tensor:
        """Run (B, n) tokens after the live cache; (B, n, V) logits. The cache hooks are on the
        decoder during this call only. Several tokens go in one call only onto an empty cache:
        whisper's attention masks a multi-token input as if it started at position 0."""
        ids = torch.tensor(rows, device=self.am.device)
        decoder = self.am.model.decoder
        live, hooks = self.am.model.install_kv_cache_hooks(self._live)
        try:
            if not self._live:
                out = decoder(ids, self.states, kv_cache=live)
            else:
                steps = [
                    decoder(ids[:, i : i + 1], self.states, kv_cache=live)
                    for i in range(ids.shape[1])
                ]
                out = torch.cat(steps, dim=1)
        finally:
            for hook in hooks:
                hook.remove()
        self._live = live
        return out.float()

    def advance(self, tokens: list[int]) -> None:
        """Make ``tokens`` (text tokens after the prompt) the cached prefix."""
        same = _common_prefix(self._tokens, tokens)
        if same == len(tokens) == len(self._tokens):
            return
        p = len(self.am.prompt)
        if same == len(tokens):  # shrinking: cut the cache and the logits
            self._saved = {
                m: v[:, : p + same] if m in self._self_attn else v for m, v in self._saved.items()
            }
            self._logits = self._logits[: same + 1]
        else:
            self._run(tokens[same:], p + same)
        self._tokens = list(tokens)

    def next_logits(self) -> torch.Tensor:
        """(V,) raw logits after the cached prefix."""
        return self._logits[len(self._tokens)]

    def prefix_logprob(self) -> float:
        """Sum log-probability of the cached prefix's tokens at this temperature."""
        return self._sum_rows(self._logits[: len(self._tokens)], self._tokens)

    def _sum_rows(self, logits: torch.Tensor, tokens: list[int]) -> float:
        if not tokens:
            return 0.0
        logp = F.log_softmax(logits / self.temperature, dim=-1)
        index = torch.tensor(tokens, device=logp.device)
        return logp.gather(1, index[:, None]).sum().item()

    @torch.no_grad()
    def logprobs(self, rows: list[list[int]]) -> list[float]:
        """Sum log-probability of each row (text tokens after the prompt, an end token allowed)."""
        base = self._tokens
        out = [0.0] * len(rows)
        groups: dict[int, list[int]] = {}
        for i, row in enumerate(rows):
            groups.setdefault(min(_common_prefix(base, row), len(row)), []).append(i)
        for shared, members in groups.items():
            head = self._sum_rows(self._logits[:shared], base[:shared])
            tails = self._tails(shared, [rows[i][shared:] for i in members])
            for i, tail in zip(members, tails, strict=True):
                out[i] = head + tail
        return out

    def _tails(self, shared: int, suffixes: list[list[int]]) -> list[float]:
        """Log-probability of each suffix after the first ``shared`` prefix tokens."""
        first_row = self._logits[shared]
        totals = [self._sum_rows(first_row[None], s[:1]) for s in suffixes]
        longer = [i for i, s in enumerate(suffixes) if len(s) > 1]
        if not longer:
            return totals
        width = max(len(suffixes[i]) for i in longer) - 1
        pad = self.am.tokenizer.eot
        inputs = [suffixes[i][:-1] + [pad] * (width - len(suffixes[i]) + 1) for i in longer]
        self._load(len(self.am.prompt) + shared, len(longer))
        logits = self._feed(inputs)  # (B, width, V)
        for b, i in enumerate(longer):
            s = suffixes[i]
            totals[i] += self._sum_rows(logits[b, : len(s) - 1], s[1:])
        return totals


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def duration_s(audio: np.ndarray) -> float:
    return len(audio) / SAMPLE_RATE
