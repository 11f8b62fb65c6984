"""Manifests: round trip, and the loader refusing engines built for another GPU or TensorRT."""

import dataclasses

import pytest

from perception.export.manifest import (
    Machine,
    Manifest,
    ManifestMismatch,
    Shapes,
    check_engine,
    check_file,
    check_source,
    read_manifest,
    write_manifest,
)
from perception.models.store import sha256_file

REBUILD = "perception export --target jetson-orin-nano --out build/jetson"
ORIN = Machine("10.3.0.30", "12.6", "Orin", "sm_87")


def engine_manifest(tmp_path, **changes) -> tuple[Manifest, object]:
    engine = tmp_path / "detector.fp16.engine"
    engine.write_bytes(b"not a real engine: the loader checks the manifest first")
    manifest = Manifest(
        model="detector", file=engine.name, kind="engine", sha256=sha256_file(engine),
        source="detector.onnx", source_sha256="ab" * 32, precision="fp16",
        project_version="0.1.0", rebuild=REBUILD,
        profiles={"x": Shapes((1, 3, 256, 256), (1, 3, 736, 992), (1, 3, 1280, 1280))},
        tensorrt="10.3.0.30", cuda="12.6", gpu_name="Orin", compute_capability="sm_87",
    )  # fmt: skip
    manifest = dataclasses.replace(manifest, **changes)
    write_manifest(manifest, tmp_path)
    return manifest, engine


def test_round_trip(tmp_path):
    manifest, engine = engine_manifest(tmp_path)
    assert read_manifest(engine) == manifest


def test_the_machine_it_was_built_for_passes(tmp_path):
    manifest, engine = engine_manifest(tmp_path)
    check_engine(read_manifest(engine), ORIN)
    check_engine(read_manifest(engine), dataclasses.replace(ORIN, tensorrt="10.3.1"))  # patch
    check_file(read_manifest(engine), engine)


def test_another_gpu_is_refused_naming_both_and_the_rebuild(tmp_path):
    _, engine = engine_manifest(tmp_path)
    ampere = Machine("10.3.0.30", "12.6", "NVIDIA RTX A4000", "sm_86")
    with pytest.raises(ManifestMismatch) as err:
        check_engine(read_manifest(engine), ampere)
    text = str(err.value)
    assert "Orin sm_87" in text and "RTX A4000 sm_86" in text and REBUILD in text


def test_another_tensorrt_release_is_refused(tmp_path):
    _, engine = engine_manifest(tmp_path)
    with pytest.raises(ManifestMismatch, match=r"TensorRT 10\.3\.0\.30 \(this machine has 8\.6"):
        check_engine(read_manifest(engine), dataclasses.replace(ORIN, tensorrt="8.6.2"))


def test_no_tensorrt_and_no_gpu_are_both_named(tmp_path):
    _, engine = engine_manifest(tmp_path)
    with pytest.raises(ManifestMismatch) as err:
        check_engine(read_manifest(engine), Machine())
    assert "no TensorRT" in str(err.value) and "no GPU" in str(err.value)


def test_a_changed_file_or_source_is_refused(tmp_path):
    manifest, engine = engine_manifest(tmp_path)
    engine.write_bytes(b"changed")
    with pytest.raises(ManifestMismatch, match="changed after export"):
        check_file(manifest, engine)
    with pytest.raises(ManifestMismatch, match="source here has"):
        check_source(manifest, "cd" * 32)


def test_a_missing_manifest_is_refused(tmp_path):
    with pytest.raises(ManifestMismatch, match="perception export"):
        read_manifest(tmp_path / "orphan.engine")


def test_an_onnx_manifest_is_not_an_engine(tmp_path):
    manifest, _ = engine_manifest(tmp_path, kind="onnx")
    with pytest.raises(ManifestMismatch, match="not a TensorRT engine"):
        check_engine(manifest, ORIN)
