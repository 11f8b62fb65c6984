"""``perception eval BAG``: replay a bag through the pipelines and write a JSON + HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

from perception.bag.evaluate import EvalOptions
from perception.bag.run import evaluate
from perception.bag.sample import FACE_TOPIC
from perception.bag.summary_text import print_summary
from perception.cli.bag_cmd import add_bag_arguments
from perception.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate the pipelines on a recorded bag (metrics, latency, report)",
        description="Replay every message of a bag (ROS 2 sqlite3 or MCAP, or ROS 1 .bag) "
        "through the speech and text pipelines in-process, account for each message, compute "
        "metrics against the ground truth (in the bag's /perception/ground_truth topic or --gt; "
        "`perception bag gt-template` writes one to fill in) and write report.json and "
        "index.html. The image and audio topics are found by type (Image, CompressedImage; "
        "AudioChunk, audio_common_msgs AudioStamped / AudioDataStamped) when the bag has one "
        "of each; `perception bag info BAG` shows what each topic would be used for.",
    )
    add_bag_arguments(p, several=True)
    p.add_argument(
        "--gt",
        type=Path,
        help="ground-truth JSON replacing the bag's own: {images: [{stamp_ns, regions: "
        "[{polygon_px, language, dont_care}]}], utterances: [{start_s, end_s, text, voice}]}; "
        "stamp_ns is the image header stamp, utterance times are seconds from the first audio "
        "chunk",
    )
    p.add_argument(
        "--face-topic",
        default=FACE_TOPIC,
        help="camera on the speaker: when the bag has it, the audio-visual recogniser runs beside "
        "speech and the report gives its text and who spoke ('' = off)",
    )
    p.add_argument("--out", type=Path, default=Path("out/eval"), help="report folder")
    p.add_argument("--config", type=Path, help="YAML with speech: and vision: option sections")
    p.add_argument(
        "--skip",
        action="append",
        choices=["speech", "vision", "guard"],
        default=[],
        help="do not run this pipeline (its messages are counted as skipped; guard: do not "
        "screen what was heard and read)",
    )
    p.add_argument(
        "--live",
        type=float,
        metavar="RATE",
        help="play the bag at RATE x recorded "
        "speed through the live ROS nodes instead of in-process",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="evaluate the bags as Ray tasks (extra `ray`): on a local Ray started for this "
        "command, or on the cluster at ADDRESS (ray://host:10001, auto); one model load per "
        "worker; reports under --out/BAG_NAME/ and the merged one in --out/merged.json",
    )
    p.add_argument("--ray-workers", type=int, metavar="N", help="Ray actors (default: its CPUs)")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if len(args.bag) > 1 or args.ray:
        return _run_many(args)
    args.bag = args.bag[0]
    options = EvalOptions(
        image_topic=args.image_topic, audio_topic=args.audio_topic, face_topic=args.face_topic
    )
    result = evaluate(
        args.bag,
        args.out,
        args.config,
        args.gt,
        tuple(args.skip),
        live_rate=args.live,
        options=options,
    )
    print_summary(result.summary)
    print(f"report: {result.page} (and {result.page.with_name('report.json')})")
    failed = sum(a["failed"] for a in result.summary["messages"].values())
    return 1 if result.summary["bag_error"] or failed else 0


def _run_many(args: argparse.Namespace) -> int:
    """Several bags (or --ray): one report per bag under --out, and --out/merged.json."""
    from functools import partial

    from perception.bag import many
    from perception.bag.report import write_json
    from perception.bag.run import load_pipelines

    if args.live is not None or args.gt is not None:
        raise ConfigError(
            "--live and --gt take one bag; evaluate several bags with the ground truth inside "
            "each (or one command per bag)"
        )
    options = EvalOptions(
        image_topic=args.image_topic, audio_topic=args.audio_topic, face_topic=args.face_topic
    )
    factory = partial(
        load_pipelines, args.config, None, tuple(args.skip), av=bool(args.face_topic)
    )
    jobs = many.plan_jobs(args.bag, args.out)
    if args.ray:
        address = None if args.ray == "local" else args.ray
        outcomes = many.run_on_ray(jobs, factory, options, address, args.ray_workers)
    else:
        outcomes = many.run_here(jobs, factory, options)
    merged = many.merge(outcomes)
    write_json(args.out / "merged.json", merged)
    for bag in merged["bags"]:
        state = bag.get("error") or bag["bag_error"] or "ok"
        print(f"{bag['bag']}: {state} ({bag['report']})")
    m = merged["messages"]
    print(
        f"{len(outcomes)} bags, {merged['failed_bags']} failed; messages: {m['received']} "
        f"received, {m['processed']} processed, {m['failed']} failed, {m['skipped']} skipped"
    )
    print(f"merged report: {args.out / 'merged.json'}")
    bad = merged["failed_bags"] or m["failed"] or any(b.get("bag_error") for b in merged["bags"])
    return 1 if bad else 0
