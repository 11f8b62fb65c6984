"""Guardrails for the on-board LLM: compact harm detectors and Gradient Cuff."""
