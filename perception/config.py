"""Typed configuration: frozen dataclasses built from YAML or dicts, checked field by field.

This module owns the conversion from plain data to dataclasses and the error messages for bad
fields. It does not know any particular configuration: each capability defines its own options
dataclass (with range checks in ``__post_init__``) and calls :func:`from_dict` or
:func:`load_yaml`.
"""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from perception.errors import ConfigError

T = TypeVar("T")


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(tp))
    if origin is tuple:
        return f"a list of {_describe(get_args(tp)[0])}"
    if origin is dict:
        return "a mapping"
    if tp is type(None):
        return "null"
    if dataclasses.is_dataclass(tp):
        return f"a mapping with fields {', '.join(f.name for f in dataclasses.fields(tp))}"
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = get_origin(tp)
    bad = ConfigError(f"{where}: expected {_describe(tp)}, got {value!r}")
    if tp is Any:
        return value
    if origin is Literal:
        if value not in get_args(tp):
            raise bad
        return value
    if origin in (Union, types.UnionType):
        for option in get_args(tp):
            try:
                return _convert(option, value, where)
            except ConfigError:
                continue
        raise bad
    if tp is type(None):
        if value is not None:
            raise bad
        return None
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise bad
        item = get_args(tp)[0]
        return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise bad
        key_t, val_t = get_args(tp)
        return {
            _convert(key_t, k, where): _convert(val_t, v, f"{where}.{k}") for k, v in value.items()
        }
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if tp is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad
        return value
    if tp is Path:
        if not isinstance(value, (str, Path)):
            raise bad
        return Path(value)
    raise ConfigError(f"{where}: field type {tp!r} is not supported by the config loader")


def from_dict(cls: type[T], data: Any, where: str = "") -> T:
    """Build the frozen dataclass ``cls`` from a mapping, checking every field.

    Args:
        cls: a dataclass type whose fields carry type hints.
        data: a mapping (``None`` means all defaults).
        where: dotted path of ``data`` in the enclosing document, used in error messages.

    Raises:
        ConfigError: naming the field, the value received and what is allowed.
    """
    data = {} if data is None else data
    label = where or cls.__name__
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected {_describe(cls)}, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{label}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(fields)}"
        )
    hints = get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        path = f"{where}.{name}" if where else name
        kwargs[name] = _convert(hints[name], value, path)
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{label}: missing required field(s) {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None


def to_dict(obj: Any) -> Any:
    """Plain-data form of a dataclass tree (tuples become lists, paths strings), for YAML/JSON."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


MAX_YAML_BYTES = 1 << 20  # a configuration or launch file is a few KB; more is not one


def read_yaml(path: Path, what: str = "config file") -> Any:
    """The document in a YAML file (safe loader: no Python tags), or one ConfigError for every
    way it can fail: missing, unreadable, too large, not UTF-8, not YAML, nested too deeply."""
    try:
        if Path(path).stat().st_size > MAX_YAML_BYTES:
            raise ConfigError(f"{what} {path} is larger than {MAX_YAML_BYTES >> 20} MB")
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except OSError as exc:  # a folder, no permission
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        why = " ".join(str(exc).split())
        raise ConfigError(f"{path}: not valid YAML ({why})") from None
    except RecursionError:  # PyYAML recurses once per nesting level
        raise ConfigError(f"{path}: YAML nested too deeply to be a {what}") from None


def load_yaml(cls: type[T], path: Path) -> T:
    """Read a YAML file into ``cls``; errors name the file and the field."""
    data = read_yaml(path)
    try:
        return from_dict(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def check(condition: bool, message: str) -> None:
    """Raise :class:`ConfigError` with ``message`` unless ``condition`` holds (__post_init__)."""
    if not condition:
        raise ConfigError(message)


__all__ = ["check", "from_dict", "load_yaml", "read_yaml", "to_dict"]
