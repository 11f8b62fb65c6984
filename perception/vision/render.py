"""Drawing text: word masks for scenes and MENTOR's printed-text templates (line crops).

This module owns font loading (with complex-script shaping through Pillow's raqm layout) and the
printed-text template, MENTOR's zero-cost input for a language (Lin et al., IROS 2023, Sec. III-B:
"printed text" of the language, black on white). It does not know scenes or models.
"""

from __future__ import annotations

import random
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from perception.errors import ConfigError
from perception.vision.languages import Language, Split, word_list

# Templates are drawn as the line crops the recogniser reads: 48 px high, the text's own width.
TEMPLATE_HEIGHT_PX = 48
MAX_TEMPLATE_WIDTH_PX = 480


@lru_cache(maxsize=256)
def load_font(spec: str, size_px: int) -> ImageFont.FreeTypeFont:
    """Font from ``path`` or ``path#face``, with raqm layout (Arabic joining, Indic clusters)."""
    path, _, face = spec.partition("#")
    try:
        return ImageFont.truetype(
            path, size_px, index=int(face or 0), layout_engine=ImageFont.Layout.RAQM
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot open font {spec!r} ({exc}); install fonts-noto-core / fonts-noto-cjk or "
            "give a path listed by `fc-list`"
        ) from None


def text_mask(text: str, font_spec: str, size_px: int, pad_px: int = 2) -> np.ndarray:
    """Ink of ``text`` as a (H, W) uint8 mask (255 = ink), cropped to the text box plus padding.

    The box uses the font's ascent/descent, not the ink, so that boxes of one font size share a
    height the way MLT annotators draw them.
    """
    font = load_font(font_spec, size_px)
    left, top, right, bottom = font.getbbox(text)
    ascent, descent = font.getmetrics()
    top = min(top, 0)
    bottom = max(bottom, ascent + descent)
    w, h = right - left + 2 * pad_px, bottom - top + 2 * pad_px
    img = Image.new("L", (max(w, 1), max(h, 1)), 0)
    ImageDraw.Draw(img).text((pad_px - left, pad_px - top), text, font=font, fill=255)
    return np.asarray(img)


def render_template(text: str, font_spec: str) -> np.ndarray:
    """One printed-text template: black text on white, (48, w, 3) uint8 RGB, the width the
    text needs at that height (at most 480 px)."""
    mask = text_mask(text, font_spec, size_px=64)
    scale = TEMPLATE_HEIGHT_PX / mask.shape[0]
    width = min(MAX_TEMPLATE_WIDTH_PX, max(1, round(mask.shape[1] * scale)))
    small = np.asarray(Image.fromarray(mask).resize((width, TEMPLATE_HEIGHT_PX), Image.BILINEAR))
    return np.repeat((255 - small)[..., None], 3, axis=2)


def language_templates(
    language: Language, count: int, split: Split = "train", seed: int = 0
) -> list[np.ndarray]:
    """``count`` templates of ``language`` (:func:`render_template`).

    Words come from the language's generated word list for ``split``; fonts cycle through the
    language's fonts, so the guide sees every typeface.
    """
    rng = random.Random(f"templates:{language.code}:{split}:{seed}")
    words = word_list(language, split, max(count * 4, 64), seed)
    picks = rng.sample(words, count) if len(words) >= count else rng.choices(words, k=count)
    return [
        render_template(word, language.fonts[i % len(language.fonts)])
        for i, word in enumerate(picks)
    ]
