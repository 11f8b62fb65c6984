"""Per-group reporting of any metric: every number is also given per group, worst group named.

Follows the lesson of the group-imbalance-in-ERM paper: an average hides the group that fails.
This module knows nothing about what the metric measures; it only aggregates counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class GroupReport:
    """A metric overall and per group; ``worst_group`` is where the metric is worst."""

    metric: str
    overall: float
    per_group: dict[str, float]
    counts: dict[str, int]
    worst_group: str
    higher_is_better: bool


def by_group(
    items: Iterable[T],
    group_of: Callable[[T], str],
    score: Callable[[list[T]], float],
    metric: str,
    higher_is_better: bool,
) -> GroupReport:
    """Apply ``score`` to all items and to each group's items.

    Args:
        items: the evaluated items (utterances, images, regions).
        group_of: the group label of one item (e.g. ``lambda u: u.voice``).
        score: the metric on a list of items (a corpus-level metric, not a mean of means).
        metric: the metric's name, for the report.
        higher_is_better: picks which extreme is "worst".
    """
    items = list(items)
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[group_of(item)].append(item)
    per_group = {g: score(members) for g, members in sorted(groups.items())}
    pick = min if higher_is_better else max
    worst = pick(per_group, key=per_group.__getitem__) if per_group else ""
    return GroupReport(
        metric=metric,
        overall=score(items) if items else float("nan"),
        per_group=per_group,
        counts={g: len(m) for g, m in sorted(groups.items())},
        worst_group=worst,
        higher_is_better=higher_is_better,
    )


def format_report(report: GroupReport, percent: bool = True) -> str:
    """A small text table: overall, then each group, the worst one marked."""
    scale, unit = (100.0, "%") if percent else (1.0, "")
    lines = [f"{report.metric}: {report.overall * scale:.2f}{unit} overall"]
    for group, value in report.per_group.items():
        mark = "  <- worst" if group == report.worst_group and len(report.per_group) > 1 else ""
        lines.append(f"  {group:24} {value * scale:7.2f}{unit}  (n={report.counts[group]}){mark}")
    return "\n".join(lines)
