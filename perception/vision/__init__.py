"""Scene text: detection and reading (PP-OCRv4), per-region language identification (MENTOR and
a script-ID baseline), synthetic scenes and printed templates, training, evaluation on synthetic
scenes and real photos, and ONNX export."""
