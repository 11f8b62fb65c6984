"""Which topic of a bag feeds which pipeline.

Owns choosing the image, audio, audio-format and ground-truth topics of a bag: by type when the
bag has one topic of a kind, by the name the user gives otherwise (``--image-topic``,
``--audio-topic``), with errors that list the candidates; and saying, for every topic, what the
replay does with it. It decodes nothing.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from perception.bag.io import TopicInfo
from perception.bag.sample import FACE_TOPIC, GT_TOPIC
from perception.errors import ConfigError
from perception.ros.inputs import AUDIO_CONVERTERS, AUDIO_INFO_TYPE, IMAGE_CONVERTERS

_NEEDS_INFO = {"audio_common_msgs/msg/AudioData", "audio_common_msgs/msg/AudioDataStamped"}


@dataclass(frozen=True)
class TopicPlan:
    """The topics the replay uses ("" where the bag has none) and their types."""

    image: str = ""
    audio: str = ""
    audio_info: str = ""
    gt: str = ""
    face: str = ""  # the camera on the speaker (audio-visual speech), when the bag has it
    types: tuple[tuple[str, str], ...] = ()  # (topic, msgtype) of every topic in the bag
    problems: tuple[str, ...] = ()  # why a kind has no topic though the bag has some

    def type_of(self, topic: str) -> str:
        return dict(self.types).get(topic, "")

    def role(self, topic: str) -> str:
        """What the replay does with ``topic``, in a few words."""
        roles = {
            self.image: "text detection",
            self.audio: "speech",
            self.audio_info: f"audio format of {self.audio}",
            self.gt: "ground truth",
            self.face: "audio-visual speech (the speaker's face)",
        }
        if topic in roles and topic:
            return roles[topic]
        return unused_reason(self.type_of(topic), self)


def unused_reason(msgtype: str, plan: TopicPlan) -> str:
    """Why a topic of this type is skipped."""
    for kind, chosen, types in (
        ("image", plan.image, IMAGE_CONVERTERS),
        ("audio", plan.audio, {**AUDIO_CONVERTERS, AUDIO_INFO_TYPE: None}),
    ):
        if msgtype in types:
            why = (
                f"not the evaluated {kind} topic ({chosen})"
                if chosen
                else f"one of several {kind} topics"
            )
            return f"{why}; choose it with --{kind}-topic"
    return "no pipeline for this topic"


def candidates(topics: dict[str, TopicInfo], kinds: dict) -> list[str]:
    """Topics whose type is a key of ``kinds`` (a converter table), sorted."""
    return sorted(t for t, info in topics.items() if info.msgtype in kinds)


def _pick(
    topics: dict[str, TopicInfo], kinds: dict, given: str, what: str, flag: str
) -> tuple[str, str]:
    """The topic of this kind and, when there is no clear one, why."""
    found = candidates(topics, kinds)
    if given and given not in topics:
        return "", f"{flag} {given}: no such topic in the bag; its topics: {', '.join(topics)}"
    if given and given not in found:
        return "", (
            f"{flag} {given} is {topics[given].msgtype}; the {what} pipeline takes "
            f"{', '.join(kinds)}"
        )
    if not given and len(found) > 1:
        listed = ", ".join(f"{t} ({topics[t].msgtype})" for t in found)
        return "", f"the bag has {len(found)} {what} topics: {listed}; choose one with {flag}"
    return given or (found[0] if found else ""), ""


def _info_topic(topics: dict[str, TopicInfo], audio: str) -> str:
    """ros-drivers' AudioInfo for ``audio``: the one in its namespace, else the only one."""
    if not audio or topics[audio].msgtype not in _NEEDS_INFO:
        return ""
    infos = [t for t, i in topics.items() if i.msgtype == AUDIO_INFO_TYPE]
    beside = [t for t in infos if posixpath.dirname(t) == posixpath.dirname(audio)]
    return (beside or infos)[0] if len(beside) == 1 or len(infos) == 1 else ""


def plan_topics(
    topics: dict[str, TopicInfo],
    image_topic: str = "",
    audio_topic: str = "",
    gt_topic: str = GT_TOPIC,
    strict: bool = True,
    face_topic: str = FACE_TOPIC,
) -> TopicPlan:
    """The plan for a bag with ``topics``. ``face_topic``, when the bag has it, is the AV
    recogniser's camera and never a text-detection candidate.

    Raises:
        ConfigError (when ``strict``; otherwise listed in ``problems``): a given topic is
            missing or of a type no pipeline takes, or the bag has several image (audio)
            topics and none was given.
    """
    face = face_topic if face_topic in topics and face_topic != image_topic else ""
    pictures = {t: i for t, i in topics.items() if t != face}
    image, image_problem = _pick(pictures, IMAGE_CONVERTERS, image_topic, "image", "--image-topic")
    audio, audio_problem = _pick(topics, AUDIO_CONVERTERS, audio_topic, "audio", "--audio-topic")
    problems = tuple(p for p in (image_problem, audio_problem) if p)
    if strict and problems:
        raise ConfigError("; ".join(problems))
    return TopicPlan(
        image,
        audio,
        _info_topic(topics, audio),
        gt_topic if gt_topic in topics else "",
        face,
        tuple((t, i.msgtype) for t, i in topics.items()),
        problems,
    )
