"""Graph checks that need no TensorRT: validity, folding, operator support and known pitfalls.

For one ONNX file: onnx's checker and strict shape inference; constant folding and clean-up with
onnxslim, kept only when onnxruntime gives the same outputs before and after on the example
inputs; the operators it uses against the support table of each TensorRT release in
``export/tensorrt-onnx-ops.yaml`` (copied from onnx-tensorrt's docs, source named there); and the
INT64, dynamic-shape and control-flow patterns that TensorRT parses differently or not at all.
This module reads graphs and reports; it does not build engines.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from perception.export.manifest import Shapes
from perception.export.profiles import PROFILES_DIR

OPS_TABLE = PROFILES_DIR / "tensorrt-onnx-ops.yaml"
INT32_MAX = 2**31 - 1
DATA_DEPENDENT = ("NonZero", "NonMaxSuppression", "Unique", "Compress")
CONTROL_FLOW = ("If", "Loop", "Scan")
FOLD_ATOL = 1e-4  # outputs of the folded graph vs the exported one, float32


@dataclass(frozen=True)
class OpSupport:
    """One TensorRT release's row of the support table."""

    version: str
    opset_max: int
    int64: str
    supported: frozenset[str]
    unsupported: frozenset[str]
    restrictions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GraphReport:
    """What the checks found in one graph. ``unsupported[v]``: operators release v cannot parse;
    ``restricted[v]``: operators used that carry a restriction note in release v."""

    file: str
    nodes: int
    nodes_after_folding: int
    folded: bool
    opset: int
    ops: dict[str, int]
    checker: str
    shape_inference: str
    unsupported: dict[str, tuple[str, ...]]
    restricted: dict[str, tuple[str, ...]]
    pitfalls: tuple[str, ...]


def load_op_tables(path: Path = OPS_TABLE) -> dict[str, OpSupport]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        version: OpSupport(
            version,
            row["opset_max"],
            row["int64"],
            frozenset(row["supported"]),
            frozenset(row["unsupported"]),
            dict(row.get("restrictions") or {}),
        )
        for version, row in data.items()
    }


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:2])


def table_for(version: str, tables: dict[str, OpSupport]) -> OpSupport:
    """The listed release nearest at or below ``version`` (the oldest when none is below)."""
    ordered = sorted(tables, key=_key)
    below = [v for v in ordered if _key(v) <= _key(version)]
    return tables[below[-1] if below else ordered[0]]


def op_counts(model) -> dict[str, int]:
    """Operator type → count, subgraphs of If/Loop/Scan included."""
    counts: Counter[str] = Counter()

    def walk(graph) -> None:
        for node in graph.node:
            counts[node.op_type] += 1
            for attr in node.attribute:
                if attr.g is not None and attr.g.node:
                    walk(attr.g)

    walk(model.graph)
    return dict(sorted(counts.items()))


def pitfalls(model, shapes: dict[str, Shapes], tables: dict[str, OpSupport]) -> list[str]:
    """TensorRT pitfalls in a graph, each a sentence naming the tensor or operator."""
    from onnx import TensorProto, numpy_helper

    found = []
    inits = {i.name for i in model.graph.initializer}
    oldest = min(tables.values(), key=lambda t: _key(t.version))
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
        if inp.type.tensor_type.elem_type == TensorProto.INT64 and oldest.int64 == "cast-down":
            found.append(
                f"input {inp.name} is INT64: TensorRT {oldest.version} casts it to INT32 "
                "(fine for values below 2^31)"
            )
        dynamic = [i for i, d in enumerate(dims) if isinstance(d, str) or d == 0]
        if dynamic and inp.name not in shapes:
            found.append(
                f"input {inp.name} has dynamic axes {dynamic} but the profile gives no "
                "min/opt/max shapes for it"
            )
        elif inp.name in shapes and 0 in shapes[inp.name].min:
            found.append(
                f"input {inp.name}: the profile's min has a zero-length axis (an empty cache); "
                "TensorRT must accept empty tensors there, else split off a first-step graph"
            )
    big = 0
    for init in model.graph.initializer:
        if init.data_type == TensorProto.INT64 and init.dims and np.prod(init.dims) < 64:
            values = numpy_helper.to_array(init)
            big += int(np.any(np.abs(values) > INT32_MAX))
    if big:
        found.append(
            f"{big} INT64 constants exceed INT32 (slice ends like 2^63-1 from `x[a:]`): "
            f"TensorRT {oldest.version} clamps them, which keeps those slices correct"
        )
    ops = op_counts(model)
    for op in DATA_DEPENDENT:
        if op in ops:
            found.append(f"{op}: data-dependent output shape, slow or unsupported in TensorRT")
    for op in CONTROL_FLOW:
        if op in ops:
            found.append(f"{op} (control flow): TensorRT builds both branches / the whole loop")
    return found


def check_graph(
    path: Path,
    shapes: dict[str, Shapes],
    tables: dict[str, OpSupport] | None = None,
    feeds: dict[str, np.ndarray] | None = None,
) -> GraphReport:
    """Every check on ``path``; with ``feeds``, the graph is also folded in place when the
    folded graph's outputs match (see :func:`fold`)."""
    import onnx

    tables = load_op_tables() if tables is None else tables
    checker = _try(lambda: onnx.checker.check_model(str(path), full_check=False))
    scratch = str(path) + ".inferred"
    inferred = _try(lambda: onnx.shape_inference.infer_shapes_path(str(path), scratch, True))
    Path(scratch).unlink(missing_ok=True)
    before = onnx.load(str(path), load_external_data=False)
    n_before = len(before.graph.node)
    folded = feeds is not None and fold(path, feeds)
    model = onnx.load(str(path), load_external_data=False) if folded else before
    ops = op_counts(model)
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    unsupported, restricted = {}, {}
    for version, table in sorted(tables.items(), key=lambda kv: _key(kv[0])):
        bad = [op for op in ops if op not in table.supported]
        if opset > table.opset_max:
            bad.append(f"opset {opset} > {table.opset_max}")
        unsupported[version] = tuple(bad)
        restricted[version] = tuple(
            f"{op}: {table.restrictions[op]}" for op in ops if op in table.restrictions
        )
    return GraphReport(
        file=path.name,
        nodes=n_before,
        nodes_after_folding=len(model.graph.node),
        folded=folded,
        opset=opset,
        ops=ops,
        checker=checker,
        shape_inference=inferred,
        unsupported=unsupported,
        restricted=restricted,
        pitfalls=tuple(pitfalls(model, shapes, tables)),
    )


def fold(path: Path, feeds: dict[str, np.ndarray]) -> bool:
    """Constant folding and dead-node removal by onnxslim, written over ``path`` only if
    onnxruntime's outputs on ``feeds`` stay within ``FOLD_ATOL``. Returns whether it was."""
    import onnx
    import onnxruntime as ort
    import onnxslim

    def run(model_bytes: bytes) -> list[np.ndarray]:
        session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
        return session.run(None, feeds)

    original = Path(path).read_bytes()
    slim = onnxslim.slim(onnx.load_from_string(original))
    slim_bytes = slim.SerializeToString()
    same = all(
        a.shape == b.shape and (a.size == 0 or float(np.abs(a - b).max()) <= FOLD_ATOL)
        for a, b in zip(run(original), run(slim_bytes), strict=True)
    )
    if same:
        Path(path).write_bytes(slim_bytes)
    return same


def _try(step) -> str:
    try:
        step()
    except Exception as exc:  # noqa: BLE001 -- the failure is the finding, reported as text
        return f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return "ok"
