"""LoRA fine-tuning and save/load parity on a tiny random Llama (real SmolLM2 tokenizer), and
Gradient Cuff's two stages with a stubbed refusal estimate and, at a tiny size, the real LLM."""

from __future__ import annotations

import pytest
import torch

from perception.llm.guard.gradient_cuff import CuffOptions, GradientCuff


class _StubCuff(GradientCuff):
    """Refusal probabilities given by the test: row 0 is the prompt, rows 1.. the perturbed."""

    def __init__(self, probs, options):
        self.options, self.probs = options, torch.tensor(probs)

    def _prompt(self, text):
        return torch.zeros((1, 3), dtype=torch.long), torch.tensor([False, True, True])

    def refusal_probs(self, embeds):
        assert embeds.shape[0] == self.options.perturbations + 1
        assert torch.equal(embeds[:, 0], embeds[:1, 0].expand_as(embeds[:, 0]))  # frozen token
        return self.probs


@pytest.fixture
def _embedding(monkeypatch):
    class LM:
        class model:  # noqa: N801
            @staticmethod
            def get_input_embeddings():
                return torch.nn.Embedding(4, 8)

    return LM()


@pytest.mark.parametrize(
    ("probs", "threshold", "stage"),
    [
        ([0.8, 0.8, 0.8], float("inf"), "refusal"),  # stage 1: the LLM refuses
        ([0.1, 0.1, 0.1], 0.0, ""),  # flat refusal loss: zero gradient, never above 0
        ([0.1, 0.6, 0.0], 1.0, "gradient"),  # a steep refusal loss: stage 2
        ([0.1, 0.6, 0.0], float("inf"), ""),
    ],
)
def test_gradient_cuff_stages(_embedding, probs, threshold, stage):
    cuff = _StubCuff(probs, CuffOptions(perturbations=2, norm_threshold=threshold))
    cuff.lm = _embedding
    result = cuff.check("any prompt")
    assert result.stage == stage and result.rejected == bool(stage)
    assert result.refusal_prob == pytest.approx(probs[0])
    assert (result.gradient_norm == 0.0) == (len(set(probs)) == 1)


def _tiny_lm():
    transformers = pytest.importorskip("transformers")
    from perception.errors import ModelNotFoundError
    from perception.llm.causal_lm import CausalLM
    from perception.models.store import ModelStore

    try:
        folder = ModelStore().resolve("smollm2-135m-instruct", verify=False)
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        initializer_range=0.5,  # a frozen head strong enough for an adapter to move the loss
    )
    torch.manual_seed(0)
    return CausalLM("tiny", transformers.LlamaForCausalLM(config).eval(), tokenizer)


@pytest.mark.model
def test_lora_learns_and_reloads_with_the_same_outputs(tmp_path):
    pytest.importorskip("peft")
    from perception.llm import lora
    from perception.llm.chat import messages, prompt_ids

    lm = _tiny_lm()
    example = lora.Example(messages("hello robot"), "I can't help with that.")
    ids, labels = lora.encode(lm, example, 64)
    prompt = len(prompt_ids(lm, example.messages))
    assert len(ids) == len(labels) and labels[:prompt] == [lora.IGNORE] * prompt
    assert labels[prompt:] == ids[prompt:]  # the answer and the end of turn are learned
    targets = ("q_proj", "v_proj", "up_proj", "down_proj")
    options = lora.LoraOptions(rank=8, targets=targets, lr=5e-2, epochs=20, batch_size=1)
    tuned = lora.attach(lm, options)
    losses = lora.fine_tune(tuned, [example], options)
    assert losses[-1] < 0.5 * losses[0]
    files = lora.save(tuned, tmp_path / "adapter")
    assert {f.name for f in files} >= {"adapter_config.json", "adapter_model.safetensors"}
    x = torch.tensor([ids])
    with torch.no_grad():
        want = tuned.model(input_ids=x).logits
        fresh = _tiny_lm()  # same seed: the same base weights
        got = lora.load(fresh, tmp_path / "adapter").model(input_ids=x).logits
    diff = float((want - got).abs().max() / want.abs().max())
    assert diff < 1e-2, diff  # relative to the largest logit; the adapter is stored in float16


@pytest.mark.model
def test_gradient_cuff_samples_every_perturbation_in_one_batch():
    lm = _tiny_lm()
    options = CuffOptions(samples=3, perturbations=2, max_new_tokens=3, norm_threshold=1e9)
    result = GradientCuff(lm, options).check("Tell me a story.")
    assert 0.0 <= result.refusal_prob <= 1.0 and result.gradient_norm >= 0.0
    assert result.stage in ("", "refusal")
