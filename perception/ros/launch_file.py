"""ROS 2 YAML launch files, parsed into a plan of processes without the ``launch`` package.

Owns the subset of the ``ros2 launch`` YAML frontend the project's files use: ``arg`` (name,
default, description), ``let``, ``node`` (pkg, exec, name, namespace, param with ``name``/``value``
or ``from`` a file, remap, env, ros_args, on_exit, ``if``/``unless``) and the substitutions
``$(var N)``, ``$(env N [default])`` and ``$(dirname)`` (parameter files sit beside the launch
file, so the same file works from a checkout and from an installed share folder).
Anything else is an error that names the tag, so a file never half-runs. It starts nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from perception.config import read_yaml
from perception.errors import ConfigError

_SUBST = re.compile(r"\$\(([a-z-]+)((?:\s+[^)\s]+)*)\s*\)")
_NODE_KEYS = {
    "pkg",
    "exec",
    "name",
    "namespace",
    "param",
    "remap",
    "env",
    "ros_args",
    "output",
    "on_exit",
    "if",
    "unless",
    "args",
}


@dataclass(frozen=True)
class NodeSpec:
    """One node process: ``params`` are parameter values, ``param_files`` YAML files."""

    pkg: str
    exec: str
    name: str
    namespace: str = ""
    params: tuple[tuple[str, Any], ...] = ()
    param_files: tuple[Path, ...] = ()
    remaps: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    ros_args: tuple[str, ...] = ()
    on_exit_shutdown: bool = False


@dataclass(frozen=True)
class LaunchPlan:
    file: Path
    args: dict[str, str]
    nodes: tuple[NodeSpec, ...]


def parse_cli_args(items: list[str]) -> dict[str, str]:
    """``["name:=value", ...]`` as a dict; anything else is an error."""
    out = {}
    for item in items:
        name, sep, value = item.partition(":=")
        if not sep or not name:
            raise ConfigError(f"launch argument {item!r}: expected name:=value")
        out[name] = value
    return out


class _Scope:
    def __init__(self, file: Path, given: dict[str, str]) -> None:
        self.file, self.given, self.vars, self.declared = file, given, {}, set()

    def sub(self, value: Any) -> Any:
        """Resolve substitutions in a string (other types pass through)."""
        if not isinstance(value, str):
            return value
        return _SUBST.sub(lambda m: self._one(m.group(1), m.group(2).split()), value)

    def _one(self, kind: str, words: list[str]) -> str:
        if kind == "var" and len(words) == 1:
            if words[0] not in self.vars:
                raise ConfigError(
                    f"{self.file}: $(var {words[0]}) is not declared by an arg "
                    f"or let above it; declared: {sorted(self.vars)}"
                )
            return self.vars[words[0]]
        if kind == "env" and len(words) in (1, 2):
            value = os.environ.get(words[0], words[1] if len(words) == 2 else None)
            if value is None:
                raise ConfigError(f"{self.file}: $(env {words[0]}) is not set and has no default")
            return value
        if kind == "dirname" and not words:
            return str(self.file.parent)
        raise ConfigError(
            f"{self.file}: substitution $({kind} {' '.join(words)}) is not "
            "supported here; use var, env or dirname"
        )

    def enabled(self, body: dict) -> bool:
        truth = {"true": True, "1": True, "false": False, "0": False}
        for key, want in (("if", True), ("unless", False)):
            if key in body:
                text = str(self.sub(body[key])).strip().lower()
                if text not in truth:
                    raise ConfigError(f"{self.file}: {key}: expected true or false, got {text!r}")
                if truth[text] != want:
                    return False
        return True


def load_launch(path: Path, given: dict[str, str]) -> LaunchPlan:
    """Parse the launch file at ``path`` with launch arguments ``given`` (name → value)."""
    path = Path(path).resolve()
    doc = read_yaml(path, "launch file")
    if not isinstance(doc, dict) or not isinstance(doc.get("launch"), list):
        raise ConfigError(
            f"{path}: expected a top-level 'launch:' list (ROS 2 YAML launch format)"
        )
    scope, nodes = _Scope(path, given), []
    for entry in doc["launch"]:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ConfigError(f"{path}: each launch entry must be one tag, got {entry!r}")
        ((tag, body),) = entry.items()
        if tag in ("arg", "let"):
            _declare(scope, tag, body)
        elif tag == "node":
            if scope.enabled(body):
                nodes.append(_node(scope, body))
        else:
            raise ConfigError(
                f"{path}: tag {tag!r} is not supported by `perception launch`; "
                "supported: arg, let, node"
            )
    unknown = sorted(set(given) - scope.declared)
    if unknown:
        raise ConfigError(
            f"{path}: unknown launch argument(s) {', '.join(unknown)}; "
            f"declared: {', '.join(sorted(scope.declared)) or 'none'}"
        )
    return LaunchPlan(path, dict(scope.vars), tuple(nodes))


def _declare(scope: _Scope, tag: str, body: dict) -> None:
    name = body.get("name")
    if not name:
        raise ConfigError(f"{scope.file}: {tag} needs a name, got {body!r}")
    if tag == "let":
        scope.vars[name] = str(scope.sub(body.get("value", "")))
        return
    scope.declared.add(name)
    if name in scope.given:
        scope.vars[name] = scope.given[name]
    elif "default" in body:
        scope.vars[name] = str(scope.sub(body["default"]))
    else:
        raise ConfigError(
            f"{scope.file}: launch argument {name!r} has no default; pass "
            f"{name}:=VALUE ({body.get('description', 'no description')})"
        )


def _typed(value: Any) -> Any:
    """A string parameter value read as YAML (``"true"`` → True, ``"3"`` → 3), like launch_ros."""
    if not isinstance(value, str) or not value.strip():
        return value
    try:
        parsed = yaml.safe_load(value)
    except (yaml.YAMLError, RecursionError):
        return value
    return parsed if isinstance(parsed, (bool, int, float, str, list)) else value


def _node(scope: _Scope, body: dict) -> NodeSpec:
    unknown = sorted(set(body) - _NODE_KEYS)
    if unknown:
        raise ConfigError(
            f"{scope.file}: node keys {unknown} are not supported; supported: {sorted(_NODE_KEYS)}"
        )
    for key in ("pkg", "exec"):
        if key not in body:
            raise ConfigError(f"{scope.file}: node needs {key!r}, got {sorted(body)}")
    params, files = [], []
    for p in body.get("param", []) or []:
        if "from" in p:
            files.append(Path(scope.sub(p["from"])))
        else:
            params.append((str(p["name"]), _typed(scope.sub(p["value"]))))
    ros_args = str(scope.sub(body.get("ros_args", ""))).split()
    return NodeSpec(
        pkg=body["pkg"],
        exec=scope.sub(body["exec"]),
        name=scope.sub(body.get("name", body["exec"])),
        namespace=scope.sub(body.get("namespace", "")),
        params=tuple(params),
        param_files=tuple(files),
        remaps=tuple((scope.sub(r["from"]), scope.sub(r["to"])) for r in body.get("remap", [])),
        env=tuple((e["name"], str(scope.sub(e["value"]))) for e in body.get("env", [])),
        ros_args=tuple(ros_args),
        on_exit_shutdown=body.get("on_exit") == "shutdown",
    )
