"""On-device LLM services: loading causal LMs offline (and, later, guardrails and DEFT)."""
