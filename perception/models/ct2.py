"""Reader for CTranslate2's ``model.bin`` weight container.

Owns the binary layout only (header, named variables, aliases); it knows nothing about which
model the variables belong to. The layout follows CTranslate2's ``models/model.cc`` loader:
little-endian, strings as a uint16 length (including the trailing NUL) followed by bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

# CTranslate2 DataType enum (include/ctranslate2/types.h), binary format version >= 4.
_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
}
_BF16 = 5


@dataclass(frozen=True)
class Ct2Model:
    """Variables of one CTranslate2 model, aliases already resolved to arrays."""

    spec_name: str
    spec_revision: int
    binary_version: int
    variables: dict[str, np.ndarray]


def _read(f: BinaryIO, fmt: str) -> tuple:
    size = struct.calcsize(fmt)
    raw = f.read(size)
    if len(raw) != size:
        raise ValueError(f"model.bin ended early: wanted {size} bytes for {fmt!r}, got {len(raw)}")
    return struct.unpack(fmt, raw)


def _read_str(f: BinaryIO) -> str:
    (length,) = _read(f, "<H")
    return f.read(length).rstrip(b"\0").decode("utf-8")


def _read_variable(f: BinaryIO, binary_version: int) -> tuple[str, np.ndarray]:
    name = _read_str(f)
    (rank,) = _read(f, "<B")
    dims = _read(f, f"<{rank}I") if rank else ()
    if binary_version >= 4:
        (type_id,) = _read(f, "<B")
        (num_bytes,) = _read(f, "<I")
    else:
        (item_size,) = _read(f, "<B")
        (count,) = _read(f, "<I")
        type_id = {4: 0, 1: 1, 2: 4}[item_size]
        num_bytes = count * item_size
    raw = f.read(num_bytes)
    if len(raw) != num_bytes:
        raise ValueError(f"model.bin ended inside variable {name!r}")
    if type_id == _BF16:
        as_u32 = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
        array = as_u32.view(np.float32)
    elif type_id in _DTYPES:
        array = np.frombuffer(raw, _DTYPES[type_id])
    else:
        raise ValueError(f"variable {name!r} has CTranslate2 type id {type_id}, not supported")
    return name, array.reshape(dims).copy()


def read_ct2_model(path: Path) -> Ct2Model:
    """Read every variable of a CTranslate2 ``model.bin``.

    Args:
        path: the ``model.bin`` file.

    Returns:
        The spec name and revision, and a dict from variable name to array (native dtype).
    """
    with open(path, "rb") as f:
        (binary_version,) = _read(f, "<I")
        if binary_version > 6:
            raise ValueError(
                f"{path}: CTranslate2 binary version {binary_version} is newer than 6"
            )
        spec_name, spec_revision = "", 1
        if binary_version >= 2:
            spec_name = _read_str(f)
            (spec_revision,) = _read(f, "<I")
        (count,) = _read(f, "<I")
        variables = dict(_read_variable(f, binary_version) for _ in range(count))
        if binary_version >= 3:
            (n_alias,) = _read(f, "<I")
            for _ in range(n_alias):
                alias, target = _read_str(f), _read_str(f)
                variables[alias] = variables[target]
    return Ct2Model(spec_name, spec_revision, binary_version, variables)
