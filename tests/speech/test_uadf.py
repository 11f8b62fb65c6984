"""Fused decoding in both forms, on tiny random LLMs (the direct form needs no LLM weights)."""

import math

import numpy as np
import pytest
import torch

from perception.audio import load_audio
from perception.llm.causal_lm import CausalLM
from perception.speech.acoustic import AcousticModel
from perception.speech.fusion import uadf_weight
from perception.speech.ger import LlmOptions
from perception.speech.guards import GuardOptions
from perception.speech.uadf import FusedDecoder, Temperatures
from perception.speech.whisper_backend import load_whisper
from tests.conftest import SAMPLE_WAV
from tests.speech.test_acoustic import random_multilingual_whisper

transformers = pytest.importorskip("transformers", reason="the llm extra provides transformers")


class WhisperVocabTokenizer:
    """The HF-tokenizer surface the decoders use, over Whisper's own tokenizer: an LLM that
    shares Whisper's vocabulary, for the paper's direct form."""

    def __init__(self, whisper_tokenizer):
        self.w = whisper_tokenizer
        self.eos_token_id = whisper_tokenizer.eot

    def apply_chat_template(self, messages, **_):
        text = "\n".join(m["content"] for m in messages) + "\n"
        return {"input_ids": torch.tensor([self.w.encode(text)])}

    def decode(self, ids, skip_special_tokens=False):
        return self.w.decode([i for i in ids if i < self.w.eot])

    def encode(self, text, add_special_tokens=False):
        return self.w.encode(text)

    def get_vocab(self):
        return {}

    def convert_tokens_to_ids(self, token):
        return None

    def __len__(self):
        return self.w.eot


def _uniform_gpt2(vocab: int, eos: int) -> CausalLM:
    config = transformers.GPT2Config(
        vocab_size=vocab, n_layer=1, n_embd=16, n_head=2, n_positions=2048, eos_token_id=eos
    )
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        model.lm_head.weight.zero_()  # every next token equally likely: the LLM knows nothing
    return model


def test_direct_form_with_an_uninformed_llm_follows_the_acoustic_model():
    am = AcousticModel(random_multilingual_whisper(), language="en")
    tok = WhisperVocabTokenizer(am.tokenizer)
    lm = CausalLM("uniform", _uniform_gpt2(am.model.dims.n_vocab, am.tokenizer.eot), tok)
    decoder = FusedDecoder(lm, am, LlmOptions(max_new_tokens=5), Temperatures())
    assert decoder.direct
    features = am.encode(np.random.default_rng(3).standard_normal(24000).astype(np.float32))
    fused = decoder.decode(features, ["hallo welt"], uadf_weight, GuardOptions(enabled=False))
    greedy = am.beam_search(features, beam_size=1, max_tokens=5, timestamps=False).hypotheses[0]
    assert fused == greedy.text.strip()


@pytest.mark.model
def test_cross_tokenizer_scores_pieces_by_what_was_said(store):
    am = AcousticModel(load_whisper(store.resolve("whisper-tiny.en")))
    hf = store.resolve("smollm2-135m-instruct")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(hf))
    tiny = transformers.LlamaForCausalLM(
        transformers.LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
        )
    ).eval()
    decoder = FusedDecoder(
        CausalLM("tiny", tiny, tokenizer), am, LlmOptions(max_new_tokens=3), Temperatures()
    )
    assert not decoder.direct
    features = am.encode(load_audio(SAMPLE_WAV))
    prefix = tokenizer.encode("Robot, stop. Turn", add_special_tokens=False)
    pieces = [tokenizer.encode(p, add_special_tokens=False)[0] for p in [" left", " banana"]]
    scorer = am.scorer(features)
    p_left, p_banana = decoder.piece_probs(scorer, "Robot, stop. Turn", prefix, pieces).tolist()
    assert 0.3 < p_left <= 1.0 and p_banana < 0.01 * p_left
    assert isinstance(decoder.decode(features, ["robot stop"], uadf_weight), str)


# -- cross-tokenizer pieces, with a scripted acoustic model ------------------------------------
def _cross_decoder(table: dict[str, float]):
    from perception.speech.ger import LlmOptions
    from tests.speech.fakes import ScriptedAcoustic, scripted_lm

    lm = scripted_lm({}, ["go", "to", "the", "kitchen", "kit", "chen"])
    am = ScriptedAcoustic(table)
    decoder = FusedDecoder(lm, am, LlmOptions(few_shot=False), Temperatures())
    assert not decoder.direct
    return decoder, lm, am


def _piece(decoder, lm, am, text: str, pieces: list[str]) -> list[float]:
    tokens = lm.tokenizer.encode(text)
    ids = [
        lm.tokenizer.ids[p] if p in lm.tokenizer.ids else lm.tokenizer.encode(p)[0] for p in pieces
    ]
    scorer = am.scorer(None)
    return decoder.piece_probs(scorer, text, tokens, ids).tolist()


def test_pieces_that_add_no_text_get_no_acoustic_support():
    decoder, lm, am = _cross_decoder({"go to": -1.0, "go to the": -1.5})
    # a lone space and a special token add nothing the audio could confirm: 0, not 1
    assert _piece(decoder, lm, am, "go to", [" ", "<special>"]) == [0.0, 0.0]
    assert _piece(decoder, lm, am, "go to", [" the"]) == pytest.approx([math.exp(-0.5)])


def test_a_newline_piece_is_the_end_of_the_transcript():
    decoder, lm, am = _cross_decoder({"go to": -1.0, "go to <eot>": -1.1})
    newline, eos = _piece(decoder, lm, am, "go to", ["\n", "<eos>"])
    assert newline == pytest.approx(math.exp(-0.1)) and eos == pytest.approx(newline)


def test_a_ratio_above_one_from_retokenising_is_clamped_to_one():
    # "go to the kit" tokenises oddly (low score); growing it into "kitchen" re-tokenises the
    # prefix, so the ratio P(text + piece) / P(text) exceeds 1: it is clamped to 1
    decoder, lm, am = _cross_decoder({"go to the kit": -6.0, "go to the kitchen": -2.0})
    assert _piece(decoder, lm, am, "go to the kit", ["chen"]) == [1.0]


def test_fused_decoding_stops_a_repetition_loop():
    from perception.speech.fusion import uadf_weight
    from perception.speech.ger import LlmOptions
    from tests.speech.fakes import ANSWER, ScriptedAcoustic, scripted_lm

    lm = scripted_lm({ANSWER: " 2", " 2": " 2"}, ["go"])  # the LLM loops on "2"
    am = ScriptedAcoustic({})
    decoder = FusedDecoder(lm, am, LlmOptions(few_shot=False, max_new_tokens=20), Temperatures())
    assert decoder.decode(None, ["go 2 2"], uadf_weight).split() == ["2", "2"]
    unguarded = decoder.decode(None, ["go 2 2"], uadf_weight, GuardOptions(enabled=False))
    assert unguarded.split() == ["2"] * 20
