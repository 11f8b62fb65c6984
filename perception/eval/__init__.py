"""Metrics, each also reported per group (language, voice, noise level) with the worst named."""
