"""On-device LLM services: loading causal LMs offline, LoRA adapters (the safety adapter), chat
generation, ONNX export with the key/value cache, the guarded services' logic, the guardrails
(``guard``: compact detectors and Gradient Cuff) and on-device adaptation (``adapt``)."""
