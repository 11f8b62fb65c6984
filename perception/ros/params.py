"""ROS parameters from option dataclasses: names are field paths, defaults come from the class.

Owns flattening a dataclass tree to ``{"asr.beam_size": 5, ...}`` (the parameters a node
declares) and building the dataclass back from the values a node received, with the config
loader's checks. It does not touch rclpy: the node passes plain dicts.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from typing import Any, TypeVar

from perception.config import from_dict, to_dict
from perception.errors import ConfigError

T = TypeVar("T")


def flatten(options: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf fields of a dataclass instance by dotted path (tuples become lists)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        value, path = getattr(options, f.name), f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, f"{path}."))
        else:
            out[path] = to_dict(value)
    return out


def unflatten(values: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` → ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        *parents, leaf = path.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def build(cls: type[T], values: dict[str, Any], prefix: str = "") -> T:
    """The dataclass from parameter values; keys outside ``prefix`` are ignored.

    Raises:
        ConfigError: naming the parameter, the value and what is allowed.
    """
    defaults = flatten(cls())
    picked = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
    # ROS cannot type an empty list, so [] arrives unset (None): keep the dataclass default then
    picked = {k: v for k, v in picked.items() if v is not None or defaults.get(k) is None}
    return from_dict(cls, unflatten(picked), prefix.rstrip("."))


def check_declared(given: Iterable[str], declared: Iterable[str], node: str = "node") -> None:
    """Refuse parameters a node was given but does not declare (rclpy ignores them silently).

    Args:
        given: names set from the command line, a parameter file or the launch file.
        declared: names the node declares.

    Raises:
        ConfigError: naming each unknown parameter and the closest declared name.
    """
    known = sorted(set(declared))
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ConfigError(
        f"{node}: unknown parameter(s) {', '.join(parts)}; the node declares "
        f"{len(known)} parameters (list them with `ros2 param list` or see its options class)"
    )
