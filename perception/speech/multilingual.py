"""Rendered multilingual test speech and the per-language evaluation.

Nine languages Whisper base knows and espeak-ng speaks: five robot requests each, written for
this project, rendered by espeak-ng's voice for that language; Japanese and Chinese are spoken
from kana and pinyin and scored against the usual spelling.
Each clip goes through the recogniser with the configured ``speech.asr.language`` (``auto``:
Whisper names the language per utterance); per language: WER (Whisper's normalisers), CER for
Chinese and Japanese, and how often the language was named right. Rendered speech, labelled as
such: it stands for languages that have no real recordings here. This module owns the sentences
and the protocol, not the models.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from perception.eval.wer import count_errors, normalizer_for

CHAR_SCORED = ("zh", "ja")  # no spaces between words: scored per character
VOICES = {"en": "en-us", "de": "de", "es": "es", "fr": "fr", "it": "it", "pt": "pt",
          "ja": "ja", "ko": "ko", "zh": "cmn-latn-pinyin"}  # fmt: skip


def _same(*sentences: str) -> tuple[tuple[str, str], ...]:
    return tuple((s, s) for s in sentences)


# (what espeak-ng says, the reference): the same five requests in every language, each a
# sentence of two clauses (Whisper names the language of a 1-s clip poorly). Japanese is spoken
# from kana, Chinese from tone-numbered pinyin (espeak-ng's Mandarin voice reads Chinese
# characters as tone digits).
SENTENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": _same(
        "Please go to the kitchen and bring me the red book.",
        "Stop at the next door and wait for me there.",
        "Excuse me, where is the elevator to the third floor?",
        "Open the window, please, it is too warm in here.",
        "Turn left at the corridor and follow the blue line."),
    "de": _same(
        "Bitte geh in die Küche und bring mir das rote Buch.",
        "Halte an der nächsten Tür an und warte dort auf mich.",
        "Entschuldigung, wo ist der Aufzug in den dritten Stock?",
        "Öffne bitte das Fenster, es ist hier zu warm.",
        "Biege am Flur links ab und folge der blauen Linie."),
    "es": _same(
        "Por favor, ve a la cocina y tráeme el libro rojo.",
        "Detente en la próxima puerta y espérame allí.",
        "Perdón, ¿dónde está el ascensor al tercer piso?",
        "Abre la ventana, por favor, hace demasiado calor aquí.",
        "Gira a la izquierda en el pasillo y sigue la línea azul."),
    "fr": _same(
        "Va dans la cuisine et apporte-moi le livre rouge, s'il te plaît.",
        "Arrête-toi à la prochaine porte et attends-moi là.",
        "Excusez-moi, où est l'ascenseur pour le troisième étage ?",
        "Ouvre la fenêtre, s'il te plaît, il fait trop chaud ici.",
        "Tourne à gauche dans le couloir et suis la ligne bleue."),
    "it": _same(
        "Per favore, vai in cucina e portami il libro rosso.",
        "Fermati alla prossima porta e aspettami lì.",
        "Scusi, dov'è l'ascensore per il terzo piano?",
        "Apri la finestra, per favore, fa troppo caldo qui.",
        "Gira a sinistra nel corridoio e segui la linea blu."),
    "pt": _same(
        "Por favor, vá para a cozinha e traga-me o livro vermelho.",
        "Pare na próxima porta e espere por mim lá.",
        "Com licença, onde fica o elevador para o terceiro andar?",
        "Abra a janela, por favor, está muito quente aqui.",
        "Vire à esquerda no corredor e siga a linha azul."),
    "ja": (
        ("だいどころに いって、あかい ほんを もって きて ください。",
         "台所に行って、赤い本を持ってきてください。"),
        ("つぎの ドアで とまって、そこで まって いて ください。",
         "次のドアで止まって、そこで待っていてください。"),
        ("すみません、さんがいへの エレベーターは どこですか。",
         "すみません、三階へのエレベーターはどこですか。"),
        ("まどを あけて ください、ここは あつすぎます。",
         "窓を開けてください、ここは暑すぎます。"),
        ("ろうかを ひだりに まがって、あおい せんに そって いって ください。",
         "廊下を左に曲がって、青い線に沿って行ってください。"),
    ),
    "ko": _same(
        "부엌으로 가서 빨간 책을 가져와 주세요.",
        "다음 문에서 멈추고 거기서 저를 기다려 주세요.",
        "실례합니다, 삼층으로 가는 엘리베이터는 어디에 있어요?",
        "창문을 열어 주세요, 여기는 너무 더워요.",
        "복도에서 왼쪽으로 돌아서 파란 선을 따라가 주세요."),
    "zh": (
        ("qing3 qu4 chu2 fang2, ba3 hong2 se4 de5 shu1 na2 gei3 wo3.",
         "请去厨房，把红色的书拿给我。"),
        ("zai4 xia4 yi2 ge4 men2 kou3 ting2 xia4, zai4 na4 li3 deng3 wo3.",
         "在下一个门口停下，在那里等我。"),
        ("qing3 wen4, qu4 san1 lou2 de5 dian4 ti1 zai4 na3 li3?",
         "请问，去三楼的电梯在哪里？"),
        ("qing3 da3 kai1 chuang1 hu4, zhe4 li3 tai4 re4 le5.",
         "请打开窗户，这里太热了。"),
        ("zai4 zou3 lang2 zuo3 zhuan3, yan2 zhe5 lan2 xian4 zou3.",
         "在走廊左转，沿着蓝线走。"),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Clip:
    language: str
    reference: str
    audio: np.ndarray  # 16 kHz float32


@dataclass(frozen=True)
class ClipResult:
    language: str
    reference: str
    text: str
    named: str  # the language Whisper named
    named_prob: float
    seconds: float
    corrector: str  # the fusion guards' verdict ("" with fusion none)


def render_clips(languages: tuple[str, ...] = tuple(SENTENCES)) -> list[Clip]:
    """Every sentence of ``languages``, spoken by that language's espeak-ng voice."""
    from perception.audio.tts import synthesize

    return [
        Clip(lang, ref, synthesize(spoken, voice=VOICES[lang], speed_wpm=150))
        for lang in languages
        for spoken, ref in SENTENCES[lang]
    ]


def run_clips(recognizer, clips: list[Clip]) -> list[ClipResult]:
    """Each clip as one utterance through ``recognizer`` (a SpeechRecognizer)."""
    from perception.speech.types import Utterance

    out = []
    for clip in clips:
        t0 = time.perf_counter()
        t = recognizer.recognize(Utterance(clip.audio, 0.0, len(clip.audio) / 16000))
        seconds = time.perf_counter() - t0
        out.append(ClipResult(clip.language, clip.reference, t.text, t.language,
                              t.language_prob, seconds, t.guard))  # fmt: skip
    return out


def error_rate(results: list[ClipResult], language: str) -> tuple[float, str]:
    """(corpus error rate, "CER" or "WER") of one language's results."""
    unit = "char" if language in CHAR_SCORED else "word"
    norm = normalizer_for(language)
    counts = [count_errors(r.reference, r.text, unit, norm) for r in results]
    rate = sum(c.edits for c in counts) / max(sum(c.words for c in counts), 1)
    return rate, "CER" if unit == "char" else "WER"


def per_language(results: list[ClipResult]) -> dict[str, dict]:
    """Per language: error rate and its unit, language-ID accuracy, median seconds per clip."""
    table = {}
    for lang in dict.fromkeys(r.language for r in results):
        mine = [r for r in results if r.language == lang]
        rate, unit = error_rate(mine, lang)
        table[lang] = {
            "clips": len(mine),
            unit: round(rate, 4),
            "language_id": sum(r.named == lang for r in mine) / len(mine),
            "median_s": round(float(np.median([r.seconds for r in mine])), 3),
        }
    return table


def format_table(table: dict[str, dict]) -> str:
    lines = ["| language | clips | WER / CER | language named right | median s per clip |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for lang, row in table.items():
        unit = "CER" if "CER" in row else "WER"
        lines.append(
            f"| {lang} | {row['clips']} | {unit} {row[unit] * 100:.1f}% | "
            f"{row['language_id']:.2f} | {row['median_s']:.2f} |"
        )
    worst = max(table, key=lambda k: table[k].get("WER", table[k].get("CER", 0)))
    return "\n".join(lines) + f"\nworst language: {worst}"
