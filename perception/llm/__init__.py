"""On-device LLM services: loading causal LMs offline, LoRA adapters (the safety adapter), chat
generation, the guarded services' logic, and the guardrails (``guard``: compact detectors and
Gradient Cuff)."""
