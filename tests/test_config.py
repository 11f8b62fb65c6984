from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from perception.config import check, from_dict, load_yaml, to_dict
from perception.errors import ConfigError
from perception.settings import PerceptionConfig, load_config


@dataclass(frozen=True)
class Inner:
    beam_size: int = 5
    mode: Literal["fast", "exact"] = "fast"
    scales: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        check(self.beam_size >= 1, f"beam_size must be >= 1, got {self.beam_size}")


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner = field(default_factory=Inner)
    path: Path | None = None


def test_builds_nested_dataclasses_and_converts_types():
    cfg = from_dict(
        Outer, {"name": "x", "inner": {"beam_size": 3, "scales": [1, 2.5]}, "path": "/tmp/a"}
    )
    assert cfg == Outer("x", Inner(3, "fast", (1.0, 2.5)), Path("/tmp/a"))
    assert to_dict(cfg) == {
        "name": "x",
        "inner": {"beam_size": 3, "mode": "fast", "scales": [1.0, 2.5]},
        "path": "/tmp/a",
    }


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {"name": "x", "inner": {"beam_size": "five"}},
            "inner.beam_size: expected int, got 'five'",
        ),
        ({"name": "x", "inner": {"mode": "slow"}}, "inner.mode: expected one of 'fast', 'exact'"),
        ({"name": "x", "inner": {"beam": 2}}, "unknown field(s) beam; allowed: beam_size"),
        ({"name": "x", "inner": {"beam_size": 0}}, "beam_size must be >= 1, got 0"),
        ({"name": "x", "inner": {"beam_size": True}}, "expected int, got True"),
        ({}, "missing required field(s) name"),
        ({"name": "x", "inner": {"scales": "1,2"}}, "inner.scales: expected a list of float"),
    ],
)
def test_bad_fields_name_field_value_and_allowed(data, fragment):
    with pytest.raises(ConfigError) as err:
        from_dict(Outer, data)
    assert fragment in str(err.value)


def test_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("speech:\n  asr:\n    beam_size: -1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: .*beam_size must be >= 1"):
        load_yaml(PerceptionConfig, bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml(PerceptionConfig, tmp_path / "nope.yaml")
    (tmp_path / "broken.yaml").write_text("speech: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(PerceptionConfig, tmp_path / "broken.yaml")


def test_top_level_config_defaults_and_overrides(tmp_path):
    assert load_config(None).speech.asr.model == "whisper-tiny.en"
    path = tmp_path / "c.yaml"
    path.write_text("speech:\n  fusion: uadf\n  asr:\n    beam_size: 2\n    device: cpu\n")
    cfg = load_config(path).speech
    assert (cfg.asr.beam_size, cfg.asr.device, cfg.fusion) == (2, "cpu", "uadf")
    assert cfg.asr.model == "whisper-tiny.en"
