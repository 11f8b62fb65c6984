"""Speech recognition: Whisper decoding (and, later, N-best fusion with an LLM)."""
