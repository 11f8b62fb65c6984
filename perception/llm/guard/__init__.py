"""Guardrails for the on-board LLM: compact detectors of harmful requests, jailbreaks, prompt
injection and harmful replies (their data, training, evaluation and ONNX export), Gradient Cuff
and its evaluation, and the screen that services and the CLI use."""
