"""Parsing ROS 2 YAML launch files and building node command lines (no processes started)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from perception.errors import ConfigError
from perception.ros.launch_file import load_launch, parse_cli_args
from perception.ros.launcher import node_command

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "x.launch.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_project_launch_file_parses_with_defaults_and_overrides():
    plan = load_launch(REPO / "launch/perception.launch.yaml", {"use_vision": "false"})
    assert [n.exec for n in plan.nodes] == ["wav_source", "speech", "llm_service"]
    llm = plan.nodes[2]
    assert ("transcript", "/speech/transcript") in llm.remaps
    assert ("regions", "/text/regions") in llm.remaps
    assert dict(llm.params)["adapter"] == "smollm2-135m-safety"
    speech = plan.nodes[1]
    assert dict(speech.params)["fusion"] == "none"
    assert speech.param_files == ((REPO / "launch/params/speech.yaml").resolve(),)
    assert ("transcript", "/speech/transcript") in speech.remaps
    wav = dict(plan.nodes[0].params)
    assert Path(wav["path"]).resolve() == REPO / "perception/data/robot_command.wav"
    assert wav["loop"] is True  # "true" from a substitution is typed like launch_ros does


def test_substitutions_conditions_and_typed_values(tmp_path, monkeypatch):
    monkeypatch.setenv("PERCEPTION_TEST_TOPIC", "/cam")
    path = _write(
        tmp_path,
        {
            "launch": [
                {"arg": {"name": "rate", "default": "2.5"}},
                {"arg": {"name": "on", "default": "false"}},
                {"let": {"name": "topic", "value": "$(env PERCEPTION_TEST_TOPIC)"}},
                {
                    "node": {
                        "pkg": "p",
                        "exec": "a",
                        "param": [
                            {"name": "rate_hz", "value": "$(var rate)"},
                            {"name": "dir", "value": "$(dirname)/x"},
                        ],
                        "remap": [{"from": "image", "to": "$(var topic)"}],
                    }
                },
                {"node": {"pkg": "p", "exec": "b", "if": "$(var on)"}},
                {"node": {"pkg": "p", "exec": "c", "unless": "$(var on)", "namespace": "robot1"}},
            ]
        },
    )
    plan = load_launch(path, {"rate": "10"})
    assert [n.exec for n in plan.nodes] == ["a", "c"]
    assert dict(plan.nodes[0].params) == {"rate_hz": 10, "dir": f"{tmp_path}/x"}
    assert plan.nodes[0].remaps == (("image", "/cam"),)
    cmd = node_command(plan.nodes[1], tmp_path)
    assert cmd[1:4] == ["-m", "p", "c"] and "__ns:=/robot1" in cmd


def test_inline_params_go_through_a_typed_parameter_file(tmp_path):
    path = _write(
        tmp_path,
        {
            "launch": [
                {
                    "node": {
                        "pkg": "p",
                        "exec": "a",
                        "name": "n1",
                        "param": [
                            {"name": "asr.beam_size", "value": 3},
                            {"name": "loop", "value": True},
                        ],
                    }
                }
            ]
        },
    )
    cmd = node_command(load_launch(path, {}).nodes[0], tmp_path)
    params_file = Path(cmd[cmd.index("--params-file") + 1])
    assert yaml.safe_load(params_file.read_text()) == {
        "/**": {"ros__parameters": {"asr.beam_size": 3, "loop": True}}
    }
    assert "__node:=n1" in cmd


@pytest.mark.parametrize(
    ("doc", "given", "message"),
    [
        ({"launch": [{"arg": {"name": "a"}}]}, {}, "has no default"),
        ({"launch": [{"arg": {"name": "a", "default": "1"}}]}, {"b": "2"}, "unknown launch arg"),
        ({"launch": [{"group": {}}]}, {}, "not supported"),
        ({"launch": [{"node": {"pkg": "p"}}]}, {}, "needs 'exec'"),
        (
            {
                "launch": [
                    {
                        "node": {
                            "pkg": "p",
                            "exec": "e",
                            "param": [{"name": "x", "value": "$(var nope)"}],
                        }
                    }
                ]
            },
            {},
            "not declared",
        ),
        ({"launch": [{"node": {"pkg": "p", "exec": "e", "if": "maybe"}}]}, {}, "true or false"),
        ({"nodes": []}, {}, "top-level 'launch:'"),
    ],
)
def test_bad_files_name_the_problem(tmp_path, doc, given, message):
    with pytest.raises(ConfigError, match=message):
        load_launch(_write(tmp_path, doc), given)


def test_cli_args():
    assert parse_cli_args(["a:=1", "b:=x:=y"]) == {"a": "1", "b": "x:=y"}
    with pytest.raises(ConfigError, match="name:=value"):
        parse_cli_args(["a=1"])


def test_bag_launch_file_needs_its_bag_argument():
    with pytest.raises(ConfigError, match="'bag' has no default"):
        load_launch(REPO / "launch/bag.launch.yaml", {})
    plan = load_launch(REPO / "launch/bag.launch.yaml", {"bag": "/tmp/b", "rate": "2"})
    player = plan.nodes[0]
    assert player.on_exit_shutdown and dict(player.params)["rate"] == 2


def test_robot_launch_file_passes_topics_and_types_to_the_nodes():
    plan = load_launch(
        REPO / "launch/robot.launch.yaml",
        {"image_topic": "/cam/c", "image_type": "sensor_msgs/msg/Image", "audio_topic": "/mic"},
    )
    speech, text = plan.nodes  # the LLM node only with use_llm:=true
    assert dict(speech.params)["node.audio_type"] == "audio_common_msgs/msg/AudioStamped"
    assert ("audio", "/mic") in speech.remaps
    assert dict(text.params)["node.image_type"] == "sensor_msgs/msg/Image"
    assert ("image", "/cam/c") in text.remaps


def test_robot_launch_file_routes_transcripts_and_scene_text_to_the_llm():
    plan = load_launch(
        REPO / "launch/robot.launch.yaml", {"use_llm": "true", "transcript_topic": "/t"}
    )
    llm = plan.nodes[-1]
    assert llm.exec == "llm_service" and ("transcript", "/t") in llm.remaps
    assert ("regions", "/text/regions") in llm.remaps
