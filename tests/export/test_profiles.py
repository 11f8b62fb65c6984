"""Export profiles: every shipped profile loads and is consistent; bad ones name the field."""

import pytest

from perception.errors import ConfigError
from perception.export.profiles import MODELS, VersionRange, load_profile, profile_names


def test_the_four_targets_ship_and_load():
    assert set(profile_names()) >= {"jetson-orin-nano", "jetson-agx-orin", "x86-ampere", "cpu"}
    for name in profile_names():
        profile = load_profile(name)
        assert profile.name == name
        assert set(profile.models) <= set(MODELS)
        if profile.runtime == "tensorrt":
            assert profile.compute_capability.startswith("sm_") and profile.tensorrt is not None


def test_jetson_profiles_match_the_hardware():
    nano, agx = load_profile("jetson-orin-nano"), load_profile("jetson-agx-orin")
    assert nano.compute_capability == agx.compute_capability == "sm_87"
    assert nano.dla_core == -1 and agx.dla_core == 0  # Orin Nano has no DLA
    assert nano.tensorrt.contains("8.6") and nano.tensorrt.contains("10.3")
    assert not nano.tensorrt.contains("10.4")


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ConfigError, match="jetson-orin-nano"):
        load_profile("no-such-target")


def _write(tmp_path, body: str):
    path = tmp_path / "t.yaml"
    path.write_text("name: t\ndescription: d\nruntime: tensorrt\ncompute_capability: sm_87\n"
                    "tensorrt: {min: '10.0', max: '10.3'}\n" + body)  # fmt: skip
    return str(path)


@pytest.mark.parametrize(
    "body, message",
    [
        ("shapes: {g: {x: {min: [1, 8], opt: [1, 4], max: [1, 9]}}}", "min <= opt <= max"),
        ("shapes: {g: {x: {min: [1], opt: [1, 4], max: [1, 9]}}}", "same rank"),
        ("models: [whisper, yolo]", "yolo"),
        ("precision: int4", "precision"),
        ("dla_core: -3", "dla_core"),
    ],
)
def test_bad_profiles_are_refused_with_the_field(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_profile(_write(tmp_path, body))


def test_tensorrt_target_needs_a_version_range(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: t\ndescription: d\nruntime: tensorrt\n")
    with pytest.raises(ConfigError, match="tensorrt"):
        load_profile(str(path))


def test_version_range_compares_numerically():
    r = VersionRange("8.6", "10.3")
    assert r.contains("10.3.0.26") and r.contains("9.2") and not r.contains("8.5")
