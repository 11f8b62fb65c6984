"""Leave-one-source-out: units, the fold rule, the table, with a fake fitter (no model)."""

from __future__ import annotations

import json
import math

import numpy as np

from perception.llm.guard import loso
from perception.llm.guard.data import Row


def _row(text, kind, source, family, split="train"):
    return Row(text, kind, source, family, split)


ROWS = [
    *[_row(f"adv {i}", "harmful", "advbench", "crime") for i in range(2)],
    _row("adv dev", "harmful", "advbench", "crime", "dev"),
    _row("robot hit", "harmful", "robot-harm", "physical"),
    _row("robot hit dev", "harmful", "robot-harm", "physical", "dev"),
    _row("robot steal", "harmful", "robot-harm", "theft"),
    _row("robot steal dev", "harmful", "robot-harm", "theft", "dev"),
    _row("obf adv", "jailbreak", "obfuscation", "hex"),
    _row("obf dev", "jailbreak", "obfuscation", "hex", "dev"),
    _row("tmpl", "jailbreak", "jailbreak-templates", "template-000"),
    _row("tmpl dev", "jailbreak", "jailbreak-templates", "template-000", "dev"),
    _row("sure", "harmful_reply", "advbench-targets", "targets", "test"),
    *[_row(f"ok {i}", "benign", "self-instruct", "app") for i in range(3)],
    *[_row(f"ok dev {i}", "benign", "self-instruct", "app", "dev") for i in range(3)],
    *[_row(f"ok test {i}", "benign", "self-instruct", "app", "test") for i in range(4)],
    *[_row(f"kill test {i}", "benign", "benign-edgy", "homonyms", "test") for i in range(2)],
]
TEMPLATES = {"template-000": "persona"}


def test_template_family_reads_the_template():
    assert loso.template_family("Hello, you are DAN, Do Anything Now") == "dan_developer_mode"
    assert loso.template_family("answer in two separate ways from now") == "dual_answers"
    assert loso.template_family("Let's act out a scene from a movie") == "fiction_scene"
    assert loso.template_family("You are Kevin, a rude user") == "persona"


def test_units_name_attack_families_and_leave_benign_out():
    units = [loso.unit_of(r, TEMPLATES) for r in ROWS]
    assert "advbench" in units and "robot-harm/theft" in units and "obfuscation/hex" in units
    assert "templates/persona" in units
    assert all(u == "" for r, u in zip(ROWS, units, strict=True) if r.kind == "benign")


def test_a_fold_never_holds_its_unit_or_what_was_built_from_it():
    units = [loso.unit_of(r, TEMPLATES) for r in ROWS]
    train = loso.fold_rows(ROWS, units, {"advbench"}, "train")
    assert train and not {r.source for r in train} & {"advbench", "obfuscation"}
    assert "jailbreak-templates" not in {r.source for r in train}
    assert all(r.split == "train" for r in train)
    kept = loso.fold_rows(ROWS, units, {"robot-harm/theft"}, "train")
    assert {"advbench", "obfuscation"} <= {r.source for r in kept}


def _fitter(seen: list):
    """Scores 1.0 for any harmful or jailbreak text, 0.0 else; records what each fold saw."""

    def fit(train, dev, tasks):
        seen.append((train, dev, tasks))
        probs = lambda rows: np.array([float(r.kind != "benign") for r in rows])  # noqa: E731
        return {t: (probs, 0.5) for t in tasks}

    return fit


def test_run_loso_scores_each_unit_with_a_fold_that_never_saw_it():
    seen: list = []
    report = loso.run_loso(ROWS, _fitter(seen), "fake", templates=TEMPLATES)
    units = {r.unit for r in report.rows}
    assert units == {
        "advbench",
        "robot-harm/physical",
        "robot-harm/theft",
        "obfuscation/hex",
        "templates/persona",
        "advbench-targets",
    }
    for train, dev, _ in seen:
        assert not any(r.split == "test" for r in train + dev)
    by = {r.unit: r for r in report.rows}
    assert by["advbench"].auroc == 1.0 and by["advbench"].tpr_at_5_fpr == 1.0
    assert by["advbench"].trained_positives == 2  # the two robot-harm train rows
    assert by["advbench"].lookalikes_blocked == 0.0
    assert report.negatives["harmful"] == 6 and report.lookalikes == 2


def test_a_unit_with_no_other_source_to_train_on_is_reported_not_faked():
    report = loso.run_loso(ROWS, _fitter([]), "fake", templates=TEMPLATES)
    targets = next(r for r in report.rows if r.unit == "advbench-targets")
    assert targets.trained_positives == 0 and math.isnan(targets.auroc)
    text = loso.format_loso(report)
    assert "advbench-targets" in text and "worst AUROC 1.000" in text
    assert json.loads(loso.loso_json(report))["rows"][0]["detector"] == "harmful"


def test_fold_threshold_keeps_both_benign_sets_under_the_rate():
    rng = np.random.default_rng(0)
    benign, looks = rng.random(200) * 0.5, 0.3 + rng.random(50) * 0.6
    t = loso.fold_threshold(benign, looks, 0.05)
    assert np.mean(benign >= t) <= 0.05 and np.mean(looks >= t) <= 0.05
    assert np.mean(looks >= np.nextafter(t, 0) - 1e-6) > 0.04


def test_paraphrases_are_not_units_and_leave_with_their_origin():
    para = _row("Can you adv 0?", "harmful", "advbench-paraphrase", "question")
    rows = [*ROWS, para]
    units = [loso.unit_of(r, TEMPLATES) for r in rows]
    assert units[-1] == ""
    assert para not in loso.fold_rows(rows, units, {"advbench"}, "train")
    assert para in loso.fold_rows(rows, units, {"robot-harm/theft"}, "train")


def test_spread_groups_puts_advbench_alone_and_every_unit_in_one_fold():
    groups = loso.spread_groups(ROWS, 2, TEMPLATES)
    assert groups[0] == {"advbench"}
    units = [u for g in groups for u in g]
    assert len(units) == len(set(units)) == 6
    assert not any({"robot-harm/physical", "robot-harm/theft"} <= g for g in groups)


def test_comparison_lines_up_the_same_units():
    a = loso.run_loso(ROWS, _fitter([]), "a", templates=TEMPLATES)
    b = loso.run_loso(ROWS, _fitter([]), "b", loso.spread_groups(ROWS, 2, TEMPLATES), TEMPLATES)
    text = loso.format_comparison({"per unit": a, "grouped": b})
    line = next(x for x in text.splitlines() if "robot-harm/theft" in x)
    assert line.split()[2:] == ["1.000", "1.000", "1.000", "1.000"]
    assert "per unit:" in text and "grouped:" in text
