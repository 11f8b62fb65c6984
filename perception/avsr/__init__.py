"""Audio-visual speech: rendered talking faces, the mouth front end, the visual speech model,
active-speaker gating and AV-UADF fusion with Whisper."""
