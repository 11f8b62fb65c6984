"""Many bags: one report per bag plus a merged one, the same in this process and on a local Ray
of two workers; one bag's failure stays with that bag. The pipelines are test stand-ins (not
models), so the numbers are about accounting, not accuracy."""

from __future__ import annotations

import json
import sys

import pytest

from perception.bag import many
from perception.bag.evaluate import EvalOptions, Pipelines
from perception.speech.types import Transcript
from tests.faults.test_bags import BoxDetector, CountingSpeech, _write


def stand_in_pipelines() -> Pipelines:
    """The factory every worker calls once (module level, so Ray can import it)."""
    return Pipelines(BoxDetector(), CountingSpeech(), "box", ("counting",))


@pytest.fixture
def bags(tmp_path):
    paths = []
    for i, storage in enumerate(["mcap", "sqlite3", "mcap", "sqlite3"]):
        path = tmp_path / "bags" / str(i) / "run"  # the same name four times
        path.parent.mkdir(parents=True)
        _write(path, storage, frames=2 + i, chunks=5 + i)
        paths.append(path)
    broken = tmp_path / "bags" / "broken"
    broken.mkdir()
    (broken / "metadata.yaml").write_text("not: a bag\n")
    return [*paths[:2], broken, *paths[2:]]


class StreamClock(CountingSpeech):
    """Test stand-in (not a model): at the end of a stream, one transcript whose end time is
    the stream's length, as the VAD would time an utterance."""

    def flush(self) -> list:
        end_s = self.samples / 16000
        return [Transcript("x", (), "none", "en", 0.0, end_s, 0.0, {}, ("clock",))]


def clock_pipelines() -> Pipelines:
    return Pipelines(None, StreamClock(), "", ("clock",), {"vision": "not under test"})


def test_each_bag_is_a_stream_of_its_own(bags, tmp_path):
    same = [bags[0], bags[0], bags[0]]
    outcomes = many.run_here(many.plan_jobs(same, tmp_path), clock_pipelines, EvalOptions())
    ends = [o.summary["speech"]["transcripts"][0]["end_s"] for o in outcomes]
    assert ends[0] > 0 and ends == [ends[0]] * 3


def test_plan_jobs_gives_each_bag_its_own_folder(tmp_path):
    jobs = many.plan_jobs(
        [tmp_path / "a" / "run", tmp_path / "b" / "run", tmp_path / "x"], tmp_path
    )
    assert [j.out_dir.name for j in jobs] == ["run", "run_2", "x"]


def test_here_one_report_per_bag_and_a_merged_one_with_the_broken_bag_isolated(bags, tmp_path):
    jobs = many.plan_jobs(bags, tmp_path / "out")
    outcomes = many.run_here(jobs, stand_in_pipelines, EvalOptions(), progress=False)
    merged = many.merge(outcomes)
    assert merged["failed_bags"] == 1 and "cannot open bag" in merged["bags"][2]["error"]
    for job, entry in zip(jobs, merged["bags"], strict=True):
        if "error" not in entry:
            report = json.loads((job.out_dir / "report.json").read_text())
            assert report["bag"] == str(job.bag)
    # every message of the four good bags: ground truth, frames, chunks, one unused topic
    written = sum(1 + (2 + i) + (5 + i) + 1 for i in range(4))
    m = merged["messages"]
    assert m["received"] == written == m["processed"] + m["failed"] + m["skipped"]
    assert merged["vision"]["frames"] == sum(2 + i for i in range(4))


@pytest.mark.slow
def test_ray_with_two_workers_gives_the_same_merged_report(bags, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    options = EvalOptions()
    here = many.run_here(many.plan_jobs(bags, tmp_path / "here"), stand_in_pipelines, options)
    jobs = many.plan_jobs(bags, tmp_path / "ray")
    on_ray = many.run_on_ray(jobs, stand_in_pipelines, options, workers=2, progress=False)
    assert [o.bag for o in on_ray] == [str(b) for b in bags]
    strip = [{k: v for k, v in b.items() if k != "report"} for b in many.merge(here)["bags"]]
    merged_ray = many.merge(on_ray)
    assert [{k: v for k, v in b.items() if k != "report"} for b in merged_ray["bags"]] == strip
    assert {k: v for k, v in merged_ray.items() if k != "bags"} == {
        k: v for k, v in many.merge(here).items() if k != "bags"
    }
    assert all((j.out_dir / "report.json").is_file() for j in jobs if "broken" not in str(j.bag))


def test_eval_of_several_bags_writes_the_merged_report(bags, tmp_path, capsys):
    from perception.cli import main

    out = tmp_path / "out"
    code = main(
        ["eval", *map(str, bags), "--skip", "speech", "--skip", "vision", "--out", str(out)]
    )
    assert code == 1  # the broken bag
    merged = json.loads((out / "merged.json").read_text())
    assert len(merged["bags"]) == 5 and merged["failed_bags"] == 1
    assert "5 bags, 1 failed" in capsys.readouterr().out


def test_eval_ray_without_ray_names_the_extra(bags, tmp_path, monkeypatch, capsys):
    from perception.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    code = main(["eval", str(bags[0]), "--ray", "--skip", "speech", "--out", str(tmp_path)])
    assert code == 2 and "pip install -e '.[ray]'" in capsys.readouterr().err
