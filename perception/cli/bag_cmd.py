"""``perception bag info | gt-template | sample``: look into a bag before evaluating it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from perception.bag.evaluate import EvalOptions
from perception.bag.run import speech_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bag",
        help="bag tools: info, ground-truth template, robot-style sample bags",
        description="Inspect a bag (ROS 2 sqlite3 / MCAP, or ROS 1 .bag) before `perception "
        "eval`: its topics and what each is used for, a ground-truth file to fill in, or a "
        "robot-style sample bag to try the commands on.",
    )
    bag_sub = p.add_subparsers(dest="bag_command", required=True, metavar="SUBCOMMAND")
    info = bag_sub.add_parser(
        "info",
        help="topics, types, counts, rates, definitions and which pipeline takes each",
        description="List every topic of the bag with its type, message count and rate, where "
        "its type definition comes from (the bag, the shipped .msg files, or none) and what "
        "`perception eval` does with it.",
    )
    add_bag_arguments(info)
    info.set_defaults(run=_info)
    gt = bag_sub.add_parser(
        "gt-template",
        help="write a --gt file with every image stamp and VAD-found utterance to fill in",
        description="Run the VAD over the bag's audio topic and list every image stamp of its "
        "camera topic in a JSON file in the --gt format, with empty regions and texts to fill "
        "in (the file says how). --media writes the frames (PNG) and utterances (WAV) too.",
    )
    add_bag_arguments(gt)
    gt.add_argument("--out", type=Path, help="template file (default: BAG_NAME.gt.json beside)")
    gt.add_argument("--media", type=Path, help="folder for frame_*.png and utterance_*.wav")
    gt.add_argument("--config", type=Path, help="YAML with a speech: section (vad options)")
    gt.set_defaults(run=_gt_template)
    sample = bag_sub.add_parser(
        "sample",
        help="write the sample's frames and speech as a robot stack records them",
        description="The sample bag's content (synthetic signs, espeak-ng speech) in robot "
        "message types: robot (MCAP, CompressedImage JPEG, audio_common AudioStamped, an IMU "
        "topic), ros-drivers (sqlite3, Image bgr8, ros-drivers AudioDataStamped 48 kHz stereo "
        "+ AudioInfo) or ros1 (a ROS 1 .bag); the ground truth goes to NAME.gt.json beside.",
    )
    sample.add_argument("out", type=Path, help="new bag path (a folder; for ros1 a .bag file)")
    sample.add_argument("--style", choices=["robot", "ros-drivers", "ros1"], default="robot")
    sample.set_defaults(run=_sample)


def add_bag_arguments(p: argparse.ArgumentParser, several: bool = False) -> None:
    """The bag (or bags) and the topic choices (``perception bag ...`` and ``perception eval``)."""
    what = "bag folder (metadata.yaml + storage file) or .bag"
    if several:
        p.add_argument("bag", type=Path, nargs="+", help=f"{what}; several give one report each")
    else:
        p.add_argument("bag", type=Path, help=what)
    p.add_argument("--image-topic", default="", help="the camera topic, if the bag has several")
    p.add_argument("--audio-topic", default="", help="the microphone topic, if it has several")


def _info(args: argparse.Namespace) -> int:
    from perception.bag.info import format_summary, summarize_bag

    summary = summarize_bag(args.bag, args.image_topic, args.audio_topic)
    print(format_summary(summary))
    return 1 if summary.read_error else 0


def _gt_template(args: argparse.Namespace) -> int:
    from perception.bag.gt_template import gt_template
    from perception.bag.robot_sample import gt_path

    options = EvalOptions(image_topic=args.image_topic, audio_topic=args.audio_topic)
    vad = speech_options(args.config).vad
    result = gt_template(args.bag, options, vad, media=args.media)
    out = args.out or gt_path(Path(args.bag))
    out.write_text(json.dumps(result.doc, indent=1, ensure_ascii=False), encoding="utf-8")
    doc = result.doc
    print(
        f"{out}: {len(doc['images'])} images ({doc['image_topic'] or 'no image topic'}), "
        f"{len(doc['utterances'])} utterances ({doc['audio_topic'] or 'no audio topic'}) "
        "to fill in; the file's how_to_fill says how"
    )
    for reason, n in result.failed.items():
        print(f"    {n} x {reason}")
    if args.media:
        print(f"frames and utterances: {args.media}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from perception.bag.robot_sample import write_robot_sample

    gt = write_robot_sample(args.out, args.style)
    print(f"bag: {args.out} ({args.style})\nground truth: {gt}")
    print(f"try: perception bag info {args.out} && perception eval {args.out} --gt {gt}")
    return 0
