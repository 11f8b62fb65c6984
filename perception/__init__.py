"""Perception stack for mobile robots: speech, scene text and on-device LLM services.

The library imports with its core dependencies only; ROS 2, TensorRT and transformers are
optional extras imported inside the code that needs them.
"""

__version__ = "0.1.0"
