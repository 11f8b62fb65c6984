"""A minimal writer of CTranslate2's model.bin layout, so reader and converter tests need no
real weights. Mirrors perception.models.ct2 (binary version 6)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_TYPE_IDS = {
    np.dtype("float32"): 0,
    np.dtype("int8"): 1,
    np.dtype("int16"): 2,
    np.dtype("int32"): 3,
    np.dtype("float16"): 4,
}


def _string(s: str) -> bytes:
    raw = s.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def write_ct2_model(
    path: Path, spec: str, variables: dict[str, np.ndarray], aliases: dict[str, str] | None = None
) -> None:
    out = [
        struct.pack("<I", 6),
        _string(spec),
        struct.pack("<I", 3),
        struct.pack("<I", len(variables)),
    ]
    for name, array in variables.items():
        array = np.asarray(array, order="C")  # keeps 0-d scalars 0-d
        out += [
            _string(name),
            struct.pack("<B", array.ndim),
            struct.pack(f"<{array.ndim}I", *array.shape),
            struct.pack("<B", _TYPE_IDS[array.dtype]),
            struct.pack("<I", array.nbytes),
            array.tobytes(),
        ]
    aliases = aliases or {}
    out.append(struct.pack("<I", len(aliases)))
    for alias, target in aliases.items():
        out += [_string(alias), _string(target)]
    Path(path).write_bytes(b"".join(out))
