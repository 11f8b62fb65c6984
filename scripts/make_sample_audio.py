"""Render the bundled sample clip (perception/data/robot_command.wav) with espeak-ng.

Run once by a developer; the clip and its reference text are committed. Output depends on the
espeak-ng version, so the committed file, not this script, is what tests read.
"""

from pathlib import Path

import numpy as np
import soundfile as sf

from perception.audio import SAMPLE_RATE
from perception.audio.tts import synthesize

TEXT = "Robot, stop. Turn left and go to the charging station."
DATA = Path(__file__).resolve().parents[1] / "perception" / "data"

if __name__ == "__main__":
    speech = synthesize(TEXT, voice="en-us", speed_wpm=150)
    pad = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    clip = np.concatenate([pad, speech, pad])
    sf.write(DATA / "robot_command.wav", clip, SAMPLE_RATE, subtype="PCM_16")
    (DATA / "robot_command.txt").write_text(TEXT + "\n", encoding="utf-8")
    print(f"wrote {DATA / 'robot_command.wav'}: {len(clip) / SAMPLE_RATE:.2f} s")
