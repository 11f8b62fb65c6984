"""Exception types shared by the whole library.

Every error says what was expected, what was found, and what to do next; the CLI prints the
message without a traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class PerceptionError(Exception):
    """Base class for errors that the CLI reports as a one-line message."""


class ConfigError(PerceptionError, ValueError):
    """A configuration field is missing, unknown or out of range."""


class ModelNotFoundError(PerceptionError):
    """A model card exists but its files are not in the store."""


class ChecksumError(PerceptionError):
    """A stored file does not match the checksum recorded for it."""


class MissingExtraError(PerceptionError, ImportError):
    """An optional dependency is not installed."""


def one_line(exc: BaseException) -> str:
    """The reason a boundary reports for ``exc``, on one line.

    The project's own errors are already written for the user; anything else is a bug or a
    library's failure, so its type is named too.
    """
    text = " ".join(str(exc).split()) or "(no message)"
    return text if isinstance(exc, PerceptionError) else f"{type(exc).__name__}: {text}"


def require(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, or raise an error that names the extra providing it.

    Args:
        module: dotted module name, e.g. ``"transformers"``.
        extra: the ``pyproject.toml`` extra that installs it, e.g. ``"llm"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{module!r} is not installed ({exc}); install the extra with "
            f"`pip install -e '.[{extra}]'`"
        ) from exc
