"""Safe networking defaults."""

from perception.ros.env import FASTDDS_PROFILE, safe_ros_env


def test_defaults_are_localhost_and_the_profile():
    env = safe_ros_env({})
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    assert env["FASTDDS_DEFAULT_PROFILES_FILE"] == str(FASTDDS_PROFILE)
    assert "<segment_size>16777216</segment_size>" in FASTDDS_PROFILE.read_text()


def test_user_choice_is_kept():
    env = safe_ros_env({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"})
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "SUBNET"


def test_widened_discovery_is_announced_and_an_unknown_range_refused():
    import pytest

    from perception.errors import ConfigError
    from perception.ros.env import FASTDDS_PROFILE, discovery_notice

    local = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    assert discovery_notice(local) == "" and discovery_notice({}) == ""
    assert discovery_notice({**local, "FASTDDS_DEFAULT_PROFILES_FILE": str(FASTDDS_PROFILE)}) == ""
    wide = discovery_notice({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}, "speech")
    assert wide.startswith("discovery for speech may reach beyond this machine")
    assert "ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET" in wide and "SROS2" in wide
    assert "ROS_STATIC_PEERS=10.0.0.7" in discovery_notice(
        {**local, "ROS_STATIC_PEERS": "10.0.0.7"}
    )
    assert "profile of your own" in discovery_notice({"FASTDDS_DEFAULT_PROFILES_FILE": "/x.xml"})
    with pytest.raises(ConfigError, match="'LOCALHOS'; expected one of LOCALHOST"):
        discovery_notice({"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOS"})


def test_the_launcher_announces_a_node_that_widens_discovery(monkeypatch):
    from pathlib import Path

    from perception.ros.launch_file import LaunchPlan, NodeSpec
    from perception.ros.launcher import Launcher

    monkeypatch.delenv("ROS_AUTOMATIC_DISCOVERY_RANGE", raising=False)
    monkeypatch.delenv("ROS_STATIC_PEERS", raising=False)
    monkeypatch.delenv("FASTDDS_DEFAULT_PROFILES_FILE", raising=False)
    wide = NodeSpec("p", "e", "talker", env=(("ROS_AUTOMATIC_DISCOVERY_RANGE", "SUBNET"),))
    lines: list[str] = []
    launcher = Launcher(
        LaunchPlan(Path("<t>"), {}, (NodeSpec("p", "e", "quiet"), wide)), lines.append
    )
    from perception.ros.env import safe_ros_env

    launcher._announce_network(safe_ros_env())
    assert lines == [
        "[launch] discovery for talker may reach beyond this machine: "
        "ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET (set by you); unset them to keep the graph on "
        "localhost, or secure it with SROS2 (README)"
    ]
