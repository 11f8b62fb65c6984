import pytest

from perception.config import from_dict
from perception.errors import ConfigError
from perception.settings import PerceptionConfig
from perception.vision.api import VisionOptions


def test_defaults_and_yaml_fields():
    cfg = from_dict(PerceptionConfig, {"vision": {"detector": "ppocr", "languages": ["en", "ml"]}})
    assert cfg.vision.detector == "ppocr" and cfg.vision.languages == ("en", "ml")
    assert VisionOptions().detector == "mentor"


@pytest.mark.parametrize(
    "field,value,match",
    [
        ("box_threshold", 1.5, "box_threshold"),
        ("max_side_px", 8, "max_side_px"),
        ("device", "tpu", "device"),
        ("detector", "mmocr", "detector"),
    ],
)
def test_bad_fields_are_named(field, value, match):
    with pytest.raises(ConfigError, match=match):
        from_dict(VisionOptions, {field: value})


def test_tensorrt_runtime_stops_with_one_line_without_tensorrt(store):
    import importlib.util

    from perception.export.tensorrt import TensorRTUnavailable
    from perception.vision.api import load_detector

    if importlib.util.find_spec("tensorrt") is not None:
        pytest.skip("TensorRT is installed here")
    with pytest.raises(TensorRTUnavailable, match="vision.runtime 'tensorrt'"):
        load_detector(VisionOptions(detector="ppocr", runtime="tensorrt", read_text=False), store)
