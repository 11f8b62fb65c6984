"""Choosing a bag's image, audio and audio-format topics: by type, or by the name given."""

from __future__ import annotations

import pytest

from perception.bag.io import TopicInfo
from perception.bag.topics import plan_topics
from perception.errors import ConfigError


def _topics(**types: str) -> dict[str, TopicInfo]:
    return {
        "/" + name.replace("__", "/"): TopicInfo("/" + name.replace("__", "/"), t, 10)
        for name, t in types.items()
    }


ROBOT = _topics(
    camera__compressed="sensor_msgs/msg/CompressedImage",
    audio="audio_common_msgs/msg/AudioStamped",
    imu="sensor_msgs/msg/Imu",
)


def test_one_of_each_is_chosen_by_type_and_the_rest_is_named():
    plan = plan_topics(ROBOT)
    assert (plan.image, plan.audio, plan.audio_info, plan.gt) == (
        "/camera/compressed",
        "/audio",
        "",
        "",
    )
    assert plan.role("/camera/compressed") == "text detection"
    assert plan.role("/audio") == "speech"
    assert plan.role("/imu") == "no pipeline for this topic"


def test_several_of_a_kind_need_the_flag_and_the_others_say_why():
    topics = {**ROBOT, **_topics(camera__raw="sensor_msgs/msg/Image")}
    with pytest.raises(
        ConfigError, match=r"2 image topics: /camera/compressed \(sensor_msgs/msg/"
    ):
        plan_topics(topics)
    plan = plan_topics(topics, image_topic="/camera/raw")
    assert plan.image == "/camera/raw"
    assert "--image-topic" in plan.role("/camera/compressed")


def test_a_given_topic_must_exist_and_be_of_a_pipeline_type():
    with pytest.raises(ConfigError, match="no such topic"):
        plan_topics(ROBOT, audio_topic="/mic")
    with pytest.raises(ConfigError, match="is sensor_msgs/msg/Imu; the audio pipeline takes"):
        plan_topics(ROBOT, audio_topic="/imu")


def test_ros_drivers_audio_takes_the_audio_info_beside_it():
    topics = _topics(
        left__audio_stamped="audio_common_msgs/msg/AudioDataStamped",
        left__audio_info="audio_common_msgs/msg/AudioInfo",
        right__audio_stamped="audio_common_msgs/msg/AudioDataStamped",
        right__audio_info="audio_common_msgs/msg/AudioInfo",
    )
    plan = plan_topics(topics, audio_topic="/right/audio_stamped")
    assert plan.audio_info == "/right/audio_info"
    assert plan.role("/right/audio_info") == "audio format of /right/audio_stamped"
    assert "--audio-topic" in plan.role("/left/audio_info")


def test_the_face_camera_is_the_av_topic_and_not_a_text_detection_candidate():
    topics = {**ROBOT, **_topics(face_camera__image_raw="sensor_msgs/msg/Image")}
    plan = plan_topics(topics)
    assert (plan.image, plan.face) == ("/camera/compressed", "/face_camera/image_raw")
    assert plan.role("/face_camera/image_raw").startswith("audio-visual speech")
    off = plan_topics(topics, image_topic="/camera/compressed", face_topic="")
    assert off.face == "" and "--image-topic" in off.role("/face_camera/image_raw")
    assert plan_topics(ROBOT).face == ""
