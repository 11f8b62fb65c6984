"""Speech recognition: Silero VAD segmentation, Whisper N-best, generative error correction (GER)
and UADF fusion with an LLM, guards on the LLM's text, calibration, expected-phrase context,
ONNX export, and the evaluations on rendered and real recordings."""
