"""Audio-visual speech: rendered talking faces and their data splits, the mouth front end, the
visual speech model and its training, active-speaker gating, AV-UADF fusion with Whisper, pairing
camera frames with audio by header stamps, and the evaluation (``perception avsr-eval``)."""
