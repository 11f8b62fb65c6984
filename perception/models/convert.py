"""Format conversion at fetch time: what a source ships → what a loader reads, done once.

Owns the one table from a card's ``convert`` value (``<source format>-<target format>``, the card's
``format`` being the target) to the function that converts, and those functions: GGUF → a
transformers folder, CTranslate2 Whisper → an openai-whisper checkpoint. The store calls
:func:`convert` on the files it staged; the capabilities load the result. This module sits below
both: it knows neither where files come from nor how a model is run, and it imports each format's
runtime inside its converter, so importing it costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from perception.errors import ConfigError, require
from perception.models.cards import ModelCard

Converter = Callable[[Path, ModelCard], list[str]]
"""Turns source files in a staging folder into the card's entry; returns the new files."""


def gguf_to_hf(staging: Path, card: ModelCard) -> list[str]:
    """``<staging>/<gguf file>`` → ``<staging>/<card.entry>/``, a float32 transformers folder.

    transformers de-quantises a GGUF file on every load (about 17 s for SmolLM2-135M on 2 cores);
    the converted folder loads in about a second.
    """
    # the conversion reads only the staged files; never let transformers reach for the Hub
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    transformers = require("transformers", "llm")
    require("gguf", "llm")
    staged = [f.dest for f in card.source.files] + [j.dest for j in card.joins]
    gguf = next(name for name in staged if name.endswith(".gguf"))
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(staging), gguf_file=gguf)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(str(staging), gguf_file=gguf)
    # A model loaded from GGUF is flagged as quantised and refuses save_pretrained; its weights
    # are already de-quantised, so move them into a plain model built from the same config.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    out = staging / card.entry
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return [p.relative_to(staging).as_posix() for p in sorted(out.rglob("*")) if p.is_file()]


def ct2_to_whisper(staging: Path, card: ModelCard) -> list[str]:
    """``<staging>/ct2/`` → ``<staging>/<card.entry>``, an openai-whisper checkpoint."""
    from perception.models.whisper_convert import convert_ct2_whisper  # imports torch

    convert_ct2_whisper(staging / "ct2", staging / card.entry)
    return [card.entry]


CONVERTERS: dict[str, Converter] = {"ct2-whisper": ct2_to_whisper, "gguf-hf": gguf_to_hf}


def convert(staging: Path, card: ModelCard) -> list[str]:
    """Run the card's converter on the files staged in ``staging``.

    Returns:
        The new files, relative to ``staging``.

    Raises:
        ConfigError: the card names a conversion this table does not have.
    """
    if card.convert not in CONVERTERS:
        raise ConfigError(
            f"card {card.name}: convert {card.convert!r} unknown; known: {sorted(CONVERTERS)}"
        )
    return CONVERTERS[card.convert](staging, card)
