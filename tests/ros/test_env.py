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
