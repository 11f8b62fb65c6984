"""Shared fixtures. Model tests use the real store (PERCEPTION_HOME); `.ci/run` fetches it first,
so a missing model fails with the command that fixes it rather than skipping."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from perception.models.store import ModelStore

REPO = Path(__file__).resolve().parents[1]
SAMPLE_WAV = REPO / "perception" / "data" / "robot_command.wav"
SAMPLE_TEXT = (REPO / "perception" / "data" / "robot_command.txt").read_text().strip()


@pytest.fixture(scope="session")
def store() -> ModelStore:
    return ModelStore()


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="gpu test: torch sees no CUDA device on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
