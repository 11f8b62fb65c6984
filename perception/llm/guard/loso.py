"""Leave-one-source-out validation: for each source family of attack text, train the detector on
every other source and score the one it never saw.

Owns the source units (AdvBench behaviours, AdvBench strings, the affirmative targets, each
written harmful or injection family, each family of in-the-wild jailbreak templates, each
obfuscation), the fold rule (which rows a fold may train on), the left-out table and its text
and JSON forms. A fold trains on the train split and calibrates on the dev split of the other
units; the left-out unit is scored on all its rows against the test-split negatives of its
detector, which no fold ever trains on, and the fold's threshold is read on how many held-out
benign look-alikes it blocks. How a fold is fitted is the caller's (:data:`Fitter`); this module
knows rows, labels and metrics, not features or models.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from perception.llm.guard.data import DEFAULT_DATA, TASK_KINDS, Row, Task, task_rows
from perception.llm.guard.heads import threshold_at_fpr
from perception.llm.guard.metrics import auroc, flag_rate, tpr_at_fpr

# families of the in-the-wild templates, first matching rule (written here from reading them)
_TEMPLATE_RULES = (
    (
        "dan_developer_mode",
        r"DAN Mode|Developer Mode|Do Anything Now|\bDAN\b|Superior Do Anything|Make Anything",
    ),
    (
        "dual_answers",
        r"two (different |separate )?(ways|manners|responses|styles)|2 ways|two entities"
        r"|two fictional|two different personalities",
    ),
    ("fiction_scene", r"scene|story|hypothetical|fictional|imagine|game|movie"),
)
# units whose text another source is built from: leaving the unit out drops those sources too
_DERIVED = {
    "advbench": ("obfuscation", "jailbreak-templates", "advbench-targets", "advbench-paraphrase")
}
# sources of benign look-alikes: safe prompts that only sound dangerous
LOOKALIKE_SOURCES = ("benign-edgy", "benign-lookalike")
# task -> {"probs": rows -> (N,) probabilities, "threshold": float}; see :data:`Fitter`
Scorers = dict[Task, tuple[Callable[[list[Row]], np.ndarray], float]]
# (train rows, dev rows, tasks) -> a scorer per task, fitted on those rows only
Fitter = Callable[[list[Row], list[Row], tuple[Task, ...]], Scorers]


def template_family(template: str) -> str:
    """The family of one jailbreak template by :data:`_TEMPLATE_RULES` (else ``persona``)."""
    rule = (name for name, pattern in _TEMPLATE_RULES if re.search(pattern, template, re.I))
    return next(rule, "persona")


def template_families(folder: Path | None = None) -> dict[str, str]:
    """``template-NNN`` (the rows' family) → that template's family."""
    path = Path(folder or DEFAULT_DATA) / "jailbreak.json"
    templates = json.loads(path.read_text(encoding="utf-8"))["jailbreak"]
    return {f"template-{i:03d}": template_family(t) for i, t in enumerate(templates)}


def unit_of(row: Row, templates: dict[str, str]) -> str:
    """The left-out unit of an attack row; "" for benign rows (negatives, never a unit) and for
    paraphrases (training aids, dropped with the unit they were built from)."""
    if row.kind in ("benign", "benign_reply") or row.source == "advbench-paraphrase":
        return ""
    if row.source == "jailbreak-templates":
        return f"templates/{templates.get(row.family, 'persona')}"
    if row.source in ("robot-harm", "injection", "obfuscation", "written-harm"):
        return f"{row.source}/{row.family}"
    return row.source


@dataclass(frozen=True)
class LeftOut:
    """One unit scored by the detector trained without it. ``flagged``: share of its rows at
    the fold's threshold; ``lookalikes_blocked``: share of held-out look-alikes at it."""

    detector: str
    unit: str
    count: int
    trained_positives: int
    auroc: float
    tpr_at_5_fpr: float
    flagged: float
    lookalikes_blocked: float


@dataclass(frozen=True)
class LosoReport:
    """Every unit's figures; ``recipe`` names the fitter, ``negatives`` counts per detector,
    ``lookalikes`` the held-out look-alikes."""

    recipe: str
    rows: tuple[LeftOut, ...]
    negatives: dict[str, int]
    lookalikes: int


def task_of(unit_rows: list[Row]) -> Task:
    """The detector whose positives the unit's rows are."""
    kind = unit_rows[0].kind
    return next(t for t, (pos, _) in TASK_KINDS.items() if kind in pos)


def fold_rows(rows: list[Row], units: list[str], left_out: set[str], split: str) -> list[Row]:
    """Rows of ``split`` a fold may use: not in a left-out unit nor built from one."""
    dropped = {s for u in left_out for s in _DERIVED.get(u, ())}
    return [
        r
        for r, u in zip(rows, units, strict=True)
        if r.split == split and u not in left_out and r.source not in dropped
    ]


def fold_threshold(neg_dev: np.ndarray, lookalike_dev: np.ndarray, fpr: float) -> float:
    """The lowest threshold that flags at most ``fpr`` of the benign dev texts and at most
    ``fpr`` of the dev look-alikes."""
    parts = [threshold_at_fpr(s, fpr) for s in (neg_dev, lookalike_dev) if len(s)]
    return max(parts, default=0.5)


def _score_unit(detector, unit, unit_rows, scorer, negatives, lookalikes, trained) -> LeftOut:
    if scorer is None:  # no other source has this detector's positives: nothing to train
        nan = float("nan")
        return LeftOut(detector, unit, len(unit_rows), 0, nan, nan, nan, nan)
    probs, threshold = scorer
    pos, neg = probs(unit_rows), probs(negatives)
    # look-alikes are prompts: the reply detector never reads them
    looks = probs(lookalikes) if lookalikes and detector != "reply" else np.zeros(0)
    return LeftOut(
        detector,
        unit,
        len(unit_rows),
        trained,
        auroc(pos, neg),
        tpr_at_fpr(pos, neg, 0.05),
        flag_rate(pos, threshold),
        flag_rate(looks, threshold),
    )


def held_out_benign(rows: list[Row], task: Task) -> list[Row]:
    """The test-split negatives of a detector (no fold trains or calibrates on them)."""
    picked, labels = task_rows(rows, task, "test")
    return [r for r, y in zip(picked, labels, strict=True) if not y]


def lookalike_rows(rows: list[Row]) -> list[Row]:
    """Held-out (test-split) benign look-alikes."""
    return [r for r in rows if r.source in LOOKALIKE_SOURCES and r.split == "test"]


def units_of(rows: list[Row], templates: dict[str, str]) -> tuple[list[str], dict]:
    """Each row's unit ("" for benign), and the rows of each unit."""
    units = [unit_of(r, templates) for r in rows]
    by_unit: dict[str, list[Row]] = {}
    for r, u in zip(rows, units, strict=True):
        if u:
            by_unit.setdefault(u, []).append(r)
    return units, by_unit


def run_loso(
    rows: list[Row],
    fitter: Fitter,
    recipe: str,
    groups: list[set[str]] | None = None,
    templates: dict[str, str] | None = None,
) -> LosoReport:
    """Fit one fold per group of units (default: one unit per fold) and score each left-out
    unit with the fold that did not see it."""
    templates = template_families() if templates is None else templates
    units, by_unit = units_of(rows, templates)
    looks, out = lookalike_rows(rows), []
    for group in groups or [{u} for u in sorted(by_unit)]:
        train, dev = (fold_rows(rows, units, group, s) for s in ("train", "dev"))
        trained = {t: sum(task_rows(train, t)[1]) for t in TASK_KINDS}
        tasks = tuple(sorted({task_of(by_unit[u]) for u in group}))
        scorers = fitter(train, dev, tuple(t for t in tasks if trained[t]))
        for u in sorted(group):
            task = task_of(by_unit[u])
            negs, scorer = held_out_benign(rows, task), scorers.get(task)
            out.append(_score_unit(task, u, by_unit[u], scorer, negs, looks, trained[task]))
    out.sort(key=lambda r: (r.detector, r.unit))
    negatives = {t: len(held_out_benign(rows, t)) for t in TASK_KINDS}
    return LosoReport(recipe, tuple(out), negatives, len(looks))


def format_loso(report: LosoReport) -> str:
    """The left-out table, then each detector's worst unit."""
    lines = [
        f"leave-one-source-out: {report.recipe}",
        "each unit scored by a detector trained without it, against the held-out benign "
        f"negatives ({', '.join(f'{k} {v}' for k, v in report.negatives.items())}); "
        f"look-alikes: {report.lookalikes} held-out benign look-alikes blocked at the fold's "
        "threshold",
        "",
        f"{'detector':10} {'left-out source':34} {'n':>5} {'trained+':>8} {'AUROC':>6} "
        f"{'TPR@5%':>7} {'flagged':>8} {'look-alikes':>11}",
    ]
    for r in report.rows:
        lines.append(
            f"{r.detector:10} {r.unit:34} {r.count:5d} {r.trained_positives:8d} {r.auroc:6.3f} "
            f"{r.tpr_at_5_fpr:7.3f} {r.flagged:8.3f} {r.lookalikes_blocked:11.3f}"
        )
    lines.append("")
    lines += [_summary(report, d) for d in TASK_KINDS]
    return "\n".join(lines)


def _scored(report: LosoReport, detector: str) -> list[LeftOut]:
    return [r for r in report.rows if r.detector == detector and r.auroc == r.auroc]


def worst_auroc(report: LosoReport, detector: str) -> tuple[float, float]:
    """(worst, median) AUROC of the detector's units that a fold could train for."""
    mine = [r.auroc for r in _scored(report, detector)]
    return (min(mine), statistics.median(mine)) if mine else (float("nan"), float("nan"))


def _summary(report: LosoReport, detector: str) -> str:
    mine = _scored(report, detector)
    if not mine:
        return f"{detector:10} no unit could be left out with another source to train on"
    worst = min(mine, key=lambda r: r.auroc)
    blocked = [r.lookalikes_blocked for r in mine if r.lookalikes_blocked == r.lookalikes_blocked]
    return (
        f"{detector:10} worst AUROC {worst.auroc:.3f} ({worst.unit}), lowest TPR@5% "
        f"{min(r.tpr_at_5_fpr for r in mine):.3f}, median AUROC "
        f"{statistics.median(r.auroc for r in mine):.3f}"
        + (f", look-alikes blocked up to {max(blocked):.3f}" if blocked else "")
    )


def loso_json(report: LosoReport) -> str:
    """The report as JSON (units' figures; NaN written as null)."""
    payload = asdict(report)
    text = json.dumps(payload, indent=1, allow_nan=True)
    return re.sub(r"\bNaN\b", "null", text)


def spread_groups(rows: list[Row], k: int, templates: dict[str, str] | None = None) -> list[set]:
    """Units in ``k`` + 1 folds for a recipe too slow to fit once per unit: AdvBench alone (its
    fold drops every source built from it), the rest dealt round-robin in sorted order, so one
    detector's units fall in different folds."""
    templates = template_families() if templates is None else templates
    _, by_unit = units_of(rows, templates)
    rest = sorted(u for u in by_unit if u != "advbench")
    groups = [set(rest[i::k]) for i in range(k)]
    return [{"advbench"}, *[g for g in groups if g]] if "advbench" in by_unit else groups


def format_comparison(reports: dict[str, LosoReport]) -> str:
    """Units side by side: AUROC / TPR@5% of each named report, then each one's worst units."""
    names = list(reports)
    keyed = [{(r.detector, r.unit): r for r in rep.rows} for rep in reports.values()]
    header = f"{'detector':10} {'left-out source':34}" + "".join(f" {n[:17]:>17}" for n in names)
    lines = ["AUROC / TPR@5% of each recipe on the same left-out units", "", header]
    for key in sorted(set().union(*keyed)):
        cells = [k.get(key) for k in keyed]
        lines.append(
            f"{key[0]:10} {key[1]:34}"
            + "".join(
                f" {c.auroc:8.3f} {c.tpr_at_5_fpr:8.3f}" if c else f" {'-':>17}" for c in cells
            )
        )
    lines.append("")
    for name, rep in reports.items():
        lines += [f"{name}:"] + [f"  {_summary(rep, d)}" for d in TASK_KINDS]
    return "\n".join(lines)
