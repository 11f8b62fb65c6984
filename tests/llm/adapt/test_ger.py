"""GER fine-tuning: its examples are the inference prompt, its N-best cache is keyed, and a
tuned LLM has its own calibration identity."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from perception.config import load_yaml
from perception.errors import ConfigError
from perception.llm import lora
from perception.llm.adapt import ger
from perception.llm.causal_lm import ADAPTER_DIR
from perception.models.bundled import checked_entry
from perception.settings import load_config
from perception.speech import calibration
from perception.speech.api import SpeechOptions
from perception.speech.dataset import Item
from perception.speech.ger import LlmOptions, prompt_ids
from tests.llm.test_lora_cuff import _tiny_lm

NBEST = ("go to the kitchin", "go to the kitchen", "go to the kitten")


@pytest.mark.parametrize("few_shot", [True, False])
def test_a_training_example_is_exactly_the_inference_prompt(few_shot):
    lm = _tiny_lm()
    options = LlmOptions(few_shot=few_shot)
    [example] = ger.examples([ger.Pair("a", NBEST, "Go to the kitchen.", "command")], options)
    ids, labels = lora.encode(lm, example, 1024)
    prompt = prompt_ids(lm, list(NBEST), options)[0].tolist()
    assert ids[: len(prompt)] == prompt
    assert all(x == lora.IGNORE for x in labels[: len(prompt)])
    answer = lm.tokenizer.decode(ids[len(prompt) :], skip_special_tokens=True)
    assert answer == "Go to the kitchen."


def test_clips_without_a_hypothesis_are_left_out():
    pairs = [ger.Pair("a", (), "Stop.", "command"), ger.Pair("b", ("stop",), "Stop.", "command")]
    assert [e.answer for e in ger.examples(pairs, LlmOptions())] == ["Stop."]


class _FakeRecognizer:
    def __init__(self):
        self.options = SpeechOptions()
        self.calls = 0

    def decode(self, audio):
        self.calls += 1
        hyp = SimpleNamespace(text=f"hypothesis {self.calls}")
        return SimpleNamespace(nbest=(hyp,))


def _items(root, n):
    import soundfile as sf

    out = []
    for i in range(n):
        path = root / f"c{i}.wav"
        sf.write(path, np.zeros(1600, np.float32), 16000)
        out.append(
            Item(f"c{i}", "train", f"text {i}", "command", "us", 170, "clean", None, path.name)
        )
    return out


def test_nbest_lists_are_cached_per_clip_list_and_whisper_options(tmp_path):
    rec, items = _FakeRecognizer(), _items(tmp_path, 3)
    first = ger.nbest_pairs(rec, tmp_path, items, "train")
    assert rec.calls == 3 and [p.reference for p in first] == ["text 0", "text 1", "text 2"]
    assert ger.nbest_pairs(rec, tmp_path, items, "train") == first and rec.calls == 3
    ger.nbest_pairs(rec, tmp_path, items[:2], "train")  # other clips: decoded again
    assert rec.calls == 5
    rec.options = dataclasses.replace(
        rec.options, asr=dataclasses.replace(rec.options.asr, beam_size=2)
    )
    ger.nbest_pairs(rec, tmp_path, items[:2], "train")
    assert rec.calls == 7


def test_an_adapter_gives_the_llm_its_own_calibration_identity(tmp_path, store):
    folder = tmp_path / "my-ger-lora"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    base = calibration.llm_fingerprint("smollm2-135m-instruct", "", store)
    assert base == calibration.model_fingerprint("smollm2-135m-instruct", store)
    tuned = calibration.llm_fingerprint("smollm2-135m-instruct", str(folder), store)
    assert tuned != base
    assert tuned == calibration.llm_fingerprint("smollm2-135m-instruct", str(folder), store)
    (folder / "adapter_model.safetensors").write_bytes(b"other weights")
    assert calibration.llm_fingerprint("smollm2-135m-instruct", str(folder), store) != tuned
    name = calibration.llm_name("smollm2-135m-instruct", str(folder))
    assert name == "smollm2-135m-instruct+my-ger-lora"


def test_the_config_must_train_on_the_base_model():
    with pytest.raises(ConfigError, match="adapter must be ''"):
        ger.GerTuneConfig(speech=SpeechOptions(llm=LlmOptions(adapter="smollm2-ger-lora")))


def test_the_bundled_adapter_is_checked_and_selected_by_the_speech_config():
    assert LlmOptions().adapter == ger.ADAPTER  # the default: the one that wins on real speech
    folder = checked_entry(ADAPTER_DIR, ger.ADAPTER, "run perception llm finetune")
    cal = calibration.lookup("whisper-tiny.en", "smollm2-135m-instruct", None, ger.ADAPTER)
    assert cal is not None and cal.llm_model == "smollm2-135m-instruct+" + ger.ADAPTER
    assert (folder / "adapter_config.json").is_file()
    config = load_config(Path(__file__).parents[3] / "configs" / "speech" / "ger-open.yaml")
    assert config.speech.llm.adapter == ger.ADAPTER and not config.speech.llm.few_shot
    tune = load_yaml(ger.GerTuneConfig, Path(__file__).parents[3] / "configs/llm/ger-open.yaml")
    assert tune.speech.llm.few_shot is False and Path(tune.output).name == ger.ADAPTER
    old = load_yaml(ger.GerTuneConfig, Path(__file__).parents[3] / "configs/llm/ger-lora.yaml")
    assert old.corpus == "speech-split" and not old.context_lists


def test_unheard_share_counts_reference_words_in_no_hypothesis():
    pair = ger.Pair("a", NBEST, "Go to the kitchen, please.", "command")
    assert ger.unheard_share(pair) == pytest.approx(1 / 5)  # "please"
    assert ger.unheard_share(dataclasses.replace(pair, reference="go to the kitten")) == 0.0


def test_a_context_list_reaches_the_training_prompt():
    lm = _tiny_lm()
    options = LlmOptions()
    pair = ger.Pair("a", NBEST, "Go to the kitchen.", "command")
    [example] = ger.examples([pair], options, [("kitchen",)])
    ids, _ = lora.encode(lm, example, 1024)
    prompt = prompt_ids(lm, list(NBEST), options, ("kitchen",))[0].tolist()
    assert ids[: len(prompt)] == prompt
    assert "Expected words: kitchen" in example.messages[-1][1]
