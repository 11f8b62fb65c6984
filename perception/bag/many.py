"""Evaluating many bags: one report per bag and a merged one, in this process or on Ray.

Owns running the replay over a list of bags with the pipelines loaded once per process (here,
or once per Ray worker: one model load per worker, not per bag), keeping one bag's failure to
that bag, and merging the per-bag summaries into a report that does not depend on where or in
which order the bags ran (it holds no wall times or latencies). Ray is an optional extra
(``pip install -e '.[ray]'``). It does not parse command lines.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from perception.bag.evaluate import EvalOptions, Pipelines, replay_bag
from perception.bag.report import summarize, write_report
from perception.errors import PerceptionError, one_line, require
from perception.eval.wer import count_errors

PipelineFactory = Callable[[], Pipelines]  # picklable (a module-level function or a partial)


@dataclass(frozen=True)
class BagJob:
    bag: Path
    out_dir: Path


@dataclass(frozen=True)
class BagOutcome:
    """One bag's summary (as written to its report.json), or why it could not be evaluated."""

    bag: str
    out_dir: str
    summary: dict | None
    error: str = ""


def plan_jobs(bags: Sequence[Path], out_dir: Path) -> list[BagJob]:
    """One report folder per bag under ``out_dir``, named after the bag (``_2``, ... on a
    repeated name)."""
    seen: Counter = Counter()
    jobs = []
    for bag in bags:
        name = Path(bag).name or "bag"
        seen[name] += 1
        folder = name if seen[name] == 1 else f"{name}_{seen[name]}"
        jobs.append(BagJob(Path(bag), Path(out_dir) / folder))
    return jobs


class BagEvaluator:
    """Pipelines loaded once (in the constructor); then bag after bag, each failure kept to its
    bag. Also the Ray actor class."""

    def __init__(self, factory: PipelineFactory, options: EvalOptions) -> None:
        self.pipes, self.options = factory(), options

    def run(self, job: BagJob) -> BagOutcome:
        try:
            if self.pipes.speech is not None:
                self.pipes.speech.reset()  # each bag is a stream of its own, from 0 s
            replay = replay_bag(job.bag, self.pipes, self.options)
            summary = summarize(replay, self.pipes)
            write_report(job.out_dir, replay, summary)
        except Exception as exc:  # per-bag guard: reported in the merged report, others go on
            return BagOutcome(str(job.bag), str(job.out_dir), None, one_line(exc))
        return BagOutcome(str(job.bag), str(job.out_dir), summary)

    def run_indexed(self, item: tuple[int, BagJob]) -> tuple[int, BagOutcome]:
        return item[0], self.run(item[1])


def run_here(
    jobs: list[BagJob], factory: PipelineFactory, options: EvalOptions, progress: bool = True
) -> list[BagOutcome]:
    """Every bag in this process, in order."""
    from tqdm import tqdm

    evaluator = BagEvaluator(factory, options)
    return [evaluator.run(job) for job in tqdm(jobs, desc="bags", disable=not progress)]


def run_on_ray(
    jobs: list[BagJob],
    factory: PipelineFactory,
    options: EvalOptions,
    address: str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> list[BagOutcome]:
    """Every bag as a task on Ray actors (one per worker, each loading the models once).

    Args:
        address: a running cluster (``ray://host:10001`` or ``auto``); None starts a local Ray
            for this command and stops it afterwards.
        workers: actors to start (default: the cluster's CPUs, at most one per bag).

    Returns:
        Outcomes in the order of ``jobs``. On a cluster the per-bag reports are written on the
        workers' machines, so ``out_dir`` should be on a shared file system.
    """
    ray = require("ray", "ray")
    from ray.util import ActorPool
    from tqdm import tqdm

    started = not ray.is_initialized()
    if started:
        _init(ray, address, workers)
    try:
        count = workers or int(ray.cluster_resources().get("CPU", 1))
        actor = ray.remote(num_cpus=1)(BagEvaluator)
        pool = ActorPool([actor.remote(factory, options) for _ in range(min(count, len(jobs)))])
        results: dict[int, BagOutcome] = {}
        items = list(enumerate(jobs))
        done = pool.map_unordered(lambda a, item: a.run_indexed.remote(item), items)
        for index, outcome in tqdm(done, total=len(jobs), desc="bags", disable=not progress):
            results[index] = outcome
    except Exception as exc:  # an actor that cannot load its models fails every bag the same
        raise PerceptionError(f"the Ray workers failed: {one_line(exc)}") from None
    finally:
        if started:
            ray.shutdown()
    return [results[i] for i in range(len(jobs))]


def _init(ray, address: str | None, workers: int | None) -> None:
    """A local Ray (this machine only) or a connection to the user's cluster."""
    if address is not None:
        ray.init(address=address, log_to_driver=False)
        return
    # local workers import this checkout the way this process does
    path = os.pathsep.join(p for p in (os.getcwd(), *sys.path) if p and os.path.isdir(p))
    ray.init(
        num_cpus=workers or os.cpu_count() or 1,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": path, "OMP_NUM_THREADS": "1"}},
    )


def merge(outcomes: list[BagOutcome]) -> dict:
    """One report over every bag: message accounting summed, WER pooled over all utterances
    (errors over reference words), frame and region counts summed, and each bag's own numbers.
    No wall times or latencies, so a plain run and a Ray run give the same merged report."""
    totals: Counter = Counter()
    errors = words = utterances = 0
    frames = regions = 0
    bags = []
    for o in outcomes:
        entry: dict = {"bag": o.bag, "report": str(Path(o.out_dir) / "report.json")}
        if o.summary is None:
            bags.append({**entry, "error": o.error})
            continue
        s = o.summary
        counts: Counter = Counter()
        for account in s["messages"].values():
            counts.update({k: account[k] for k in ("received", "processed", "failed", "skipped")})
        totals.update(counts)
        for u in s["speech"].get("utterances", []):
            count = count_errors(u["reference"], u["hypothesis"])
            errors, words, utterances = errors + count.edits, words + count.words, utterances + 1
        frames += s["vision"]["frames"]
        regions += s["vision"]["regions_detected"]
        bags.append(
            {
                **entry,
                "bag_error": s["bag_error"],
                "messages": dict(counts),
                "wer": (s["speech"].get("wer") or {}).get("overall"),
                "hmean": (s["vision"].get("hmean") or {}).get("overall"),
                "language_id": (s["vision"].get("language_id") or {}).get("overall"),
            }
        )
    keys = ("received", "processed", "failed", "skipped")
    return {
        "bags": bags,
        "failed_bags": sum(o.summary is None for o in outcomes),
        "messages": {k: totals[k] for k in keys},
        "speech": {"utterances": utterances, "wer": errors / words if words else None},
        "vision": {"frames": frames, "regions_detected": regions},
    }
