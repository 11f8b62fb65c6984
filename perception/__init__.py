"""Perception stack for mobile robots: speech, audio-visual speech, scene text, on-device LLM
services with guardrails and adaptation, edge export, ROS 2 helpers and bags.

The library imports with its core dependencies only; ROS 2, TensorRT and transformers are
optional extras imported inside the code that needs them.
"""

__version__ = "0.1.0"
