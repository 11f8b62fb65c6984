"""``perception export`` as a list of steps: per model, export → check → fold → parity → int8 →
engine plan (and the engine, where TensorRT imports) → manifest; then a summary table.

Owns the order of the steps, the progress lines, and the files a run leaves in the output folder
besides the graphs: ``checks.json`` (every graph report), ``build_engines.sh`` (the trtexec lines)
and ``summary.md``. What each step does lives in the modules it calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from perception import __version__
from perception.config import to_dict
from perception.errors import PerceptionError
from perception.export.checks import GraphReport, check_graph, load_op_tables
from perception.export.graphs import EXPORTERS, Graph, Skipped
from perception.export.manifest import Manifest, onnx_manifest, write_manifest
from perception.export.profiles import ExportProfile, Precision
from perception.export.tensorrt import (
    BuildPlan,
    TensorRTUnavailable,
    build_engine,
    machine_here,
    require_tensorrt,
    trtexec_command,
)
from perception.models.store import ModelStore, sha256_file, sha256_path


@dataclass(frozen=True)
class GraphResult:
    """One graph's line of the summary."""

    model: str
    graph: str
    file: str
    size_mb: float
    parity: float
    reference: str
    nodes: int
    nodes_after_folding: int
    unsupported: dict[str, tuple[str, ...]]
    pitfalls: int
    int8_file: str
    int8_parity: float | None
    engine: str
    seconds: float


@dataclass(frozen=True)
class ModelResult:
    model: str
    state: str  # "ok", "partial" (some graphs skipped), "failed"
    detail: str
    graphs: tuple[GraphResult, ...]
    seconds: float


def run_export(
    profile: ExportProfile,
    out: Path,
    models: tuple[str, ...],
    precision: Precision,
    store: ModelStore | None = None,
    say: Callable[[str], None] = print,
) -> list[ModelResult]:
    """Export ``models`` for ``profile`` into ``out``; one progress line per step."""
    store = store or ModelStore()
    out.mkdir(parents=True, exist_ok=True)
    tables = load_op_tables()
    if precision == "fp16" and profile.runtime == "onnxruntime":
        say("fp16 on an onnxruntime target: the graphs stay fp32 (no fp16 speed-up on CPUs)")
    can_build = profile.runtime == "tensorrt" and _tensorrt_here(say)
    results, reports = [], {}
    for i, model in enumerate(models, 1):
        say(f"[{i}/{len(models)}] {model}: exporting")
        start = time.perf_counter()
        try:
            graphs = EXPORTERS[model](out, store)
        except PerceptionError as exc:
            say(f"  {model}: failed: {exc}")
            results.append(ModelResult(model, "failed", str(exc), (), _since(start)))
            continue
        done, skipped = [], [g for g in graphs if isinstance(g, Skipped)]
        for graph in graphs:
            if isinstance(graph, Skipped):
                say(f"  {graph.name}: skipped: {graph.reason}")
                continue
            result, report = _one_graph(graph, profile, out, precision, tables, can_build, say)
            done.append(result)
            reports[graph.name] = to_dict(report)
        state = "partial" if skipped else "ok"
        detail = "; ".join(f"{g.name} skipped: {g.reason}" for g in skipped)
        results.append(ModelResult(model, state, detail, tuple(done), _since(start)))
    (out / "checks.json").write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")
    _write_plan(out, profile, results)
    (out / "summary.md").write_text(summary_table(results) + "\n", encoding="utf-8")
    return results


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 1)


def _tensorrt_here(say) -> bool:
    try:
        require_tensorrt("building engines")
    except TensorRTUnavailable as exc:
        say(f"engines: not built: {exc}")
        return False
    return True


def _one_graph(graph: Graph, profile, out: Path, precision, tables, can_build: bool, say):
    start = time.perf_counter()
    shapes = profile.shapes.get(graph.name, {})
    feeds = graph.feeds if graph.fold else None
    report: GraphReport = check_graph(graph.path, shapes, tables, feeds)
    parity = graph.parity(graph.path)
    say(
        f"  {graph.path.name}: checker {report.checker}, shapes {report.shape_inference}, "
        f"nodes {report.nodes} -> {report.nodes_after_folding}, "
        f"max |onnxruntime - {graph.reference}| {parity:.2e}"
    )
    int8_file, int8_parity = "", None
    if precision == "int8" and profile.runtime == "onnxruntime":
        int8_path = quantize_dynamic(graph.path)
        int8_file, int8_parity = int8_path.name, graph.parity(int8_path)
        say(f"  {int8_path.name}: dynamic int8, max |int8 - {graph.reference}| {int8_parity:.2e}")
    plan = _plan(graph, profile, out, precision, shapes)
    if plan is None:
        engine = "onnxruntime target"
    elif not can_build:
        engine = "not built (no TensorRT here); trtexec line in manifest"
    else:
        engine = _engine(plan, profile, graph.feeds, say)
    _manifest(graph, profile, out, precision, report, plan, parity)
    size = graph.path.stat().st_size / 1e6
    unsupported = {v: ops for v, ops in report.unsupported.items()}
    result = GraphResult(
        graph.model, graph.name, graph.path.name, round(size, 1), parity, graph.reference,
        report.nodes, report.nodes_after_folding, unsupported, len(report.pitfalls),
        int8_file, int8_parity, engine, _since(start),
    )  # fmt: skip
    return result, report


def quantize_dynamic(path: Path) -> Path:
    """onnxruntime's dynamic int8 quantisation of the weights of MatMul, Gemm and Conv
    (activations are quantised per call); written beside ``path`` as ``<name>.int8.onnx``."""
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic as quantize

    target = path.with_name(path.stem + ".int8.onnx")
    ops = ["MatMul", "Gemm", "Conv"]
    quantize(str(path), str(target), weight_type=QuantType.QInt8, op_types_to_quantize=ops)
    return target


def quantize_static(path: Path, batches: list[dict], opset: int = 13) -> Path:
    """onnxruntime's static int8 quantisation (QDQ, per-channel weights, activation ranges from
    ``batches`` of real inputs by min/max); the graph is first converted to ``opset`` (per-
    channel scales need 13). Written beside ``path`` as ``<name>.int8-static.onnx``."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType
    from onnxruntime.quantization import quantize_static as quantize

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(batches)

        def get_next(self):
            return next(self.batches, None)

    model = onnx.load(str(path))
    if max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) < opset:
        model = version_converter.convert_version(model, opset)
    staged = path.with_name(path.stem + f".opset{opset}.onnx")
    onnx.save(model, str(staged))
    target = path.with_name(path.stem + ".int8-static.onnx")
    types = {"activation_type": QuantType.QUInt8, "weight_type": QuantType.QInt8}
    quantize(str(staged), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
             **types)  # fmt: skip
    staged.unlink()
    return target


def _plan(graph: Graph, profile, out: Path, precision, shapes) -> BuildPlan | None:
    if profile.runtime != "tensorrt":
        return None
    return BuildPlan(
        onnx=graph.path,
        engine=graph.path.with_suffix(f".{precision}.engine"),
        precision=precision,
        shapes=shapes,
        workspace_mib=profile.workspace_mib,
        dla_core=profile.dla_core if graph.model in ("detector",) else -1,
        timing_cache=out / "timing.cache",
        calibration_cache=graph.path.with_suffix(".calibration.cache"),
    )


def _engine(plan: BuildPlan, profile: ExportProfile, feeds, say) -> str:
    """Build the engine (TensorRT imports here). int8 calibrates on the graph's example
    inputs from the project's data (one batch: a smoke-level calibration, stated here)."""
    try:
        build_engine(plan, iter([feeds]) if plan.precision == "int8" else None)
    except PerceptionError as exc:
        say(f"  {plan.engine.name}: failed: {exc}")
        return f"failed: {exc}"
    here = machine_here()
    write_manifest(
        Manifest(
            model=plan.onnx.stem,
            file=plan.engine.name,
            kind="engine",
            sha256=sha256_file(plan.engine),
            source=plan.onnx.name,
            source_sha256=sha256_file(plan.onnx),
            precision=plan.precision,
            project_version=__version__,
            rebuild=_rebuild(profile, plan.engine.parent, plan.precision),
            profiles=plan.shapes,
            tensorrt=here.tensorrt,
            cuda=here.cuda,
            gpu_name=here.gpu_name,
            compute_capability=here.compute_capability,
            trtexec=trtexec_command(plan),
        ),
        plan.engine.parent,
    )
    return f"built {plan.engine.name} for {here.gpu_name} {here.compute_capability}"


def _rebuild(profile: ExportProfile, out: Path, precision: str) -> str:
    return f"perception export --target {profile.name} --out {out} --precision {precision}"


def _manifest(graph: Graph, profile, out, precision, report, plan, parity) -> None:
    notes = [f"max |onnxruntime - {graph.reference}| on project data: {parity:.3e}"]
    notes += list(report.pitfalls)
    if plan is not None:
        notes.append(f"engine precision {precision}; the ONNX graph itself is fp32")
    manifest = onnx_manifest(
        graph.path,
        graph.source,
        sha256_path(graph.source),
        _rebuild(profile, out, precision) + f" --models {graph.model}",
        model=graph.name,
        profiles=profile.shapes.get(graph.name, {}),
        trtexec=trtexec_command(plan) if plan is not None else "",
        notes=tuple(notes),
    )
    write_manifest(manifest, out)


def _write_plan(out: Path, profile: ExportProfile, results: list[ModelResult]) -> None:
    if profile.runtime != "tensorrt":
        return
    lines = [
        "#!/usr/bin/env bash",
        f"# Engines for {profile.description}: run on the target, in this folder.",
        f"# TensorRT {profile.tensorrt.min} to {profile.tensorrt.max}; "
        f"the same builds as `perception export --target {profile.name}` there.",
        "set -euo pipefail",
    ]
    for r in results:
        for g in r.graphs:
            manifest = json.loads((out / f"{g.file}.manifest.json").read_text())
            lines.append(manifest["trtexec"])
    (out / "build_engines.sh").write_text("\n".join(lines) + "\n", encoding="utf-8")


def summary_table(results: list[ModelResult]) -> str:
    """Markdown: one row per graph (or per model that was not exported)."""
    versions = sorted({v for r in results for g in r.graphs for v in g.unsupported})
    head = ["model", "graph", "MB", "max abs diff vs reference", "nodes (folded)"]
    head += [f"not in TRT {v}" for v in versions] + ["pitfalls", "int8", "engine", "s"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        if r.detail:
            rows.append(f"| {r.model} | {r.state}: {r.detail} |" + " |" * (len(head) - 2))
        for g in r.graphs:
            cells = [g.model, g.file, f"{g.size_mb:.1f}", f"{g.parity:.1e} ({g.reference})",
                     f"{g.nodes} ({g.nodes_after_folding})"]  # fmt: skip
            cells += [", ".join(g.unsupported.get(v, ())) or "-" for v in versions]
            int8 = f"{g.int8_file} ({g.int8_parity:.1e})" if g.int8_file else "-"
            cells += [str(g.pitfalls), int8, g.engine, f"{g.seconds:.1f}"]
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)
