import numpy as np
import pytest

from perception.models.ct2 import read_ct2_model
from tests.models.ct2_writer import write_ct2_model


def test_reads_variables_dtypes_scalars_and_aliases(tmp_path):
    rng = np.random.default_rng(0)
    variables = {
        "a/weight": rng.standard_normal((3, 4)).astype(np.float16),
        "a/bias": rng.standard_normal(3).astype(np.float32),
        "num_heads": np.array(6, np.int16),
        "flag": np.array(1, np.int8),
    }
    path = tmp_path / "model.bin"
    write_ct2_model(path, "WhisperSpec", variables, aliases={"b/weight": "a/weight"})
    model = read_ct2_model(path)
    assert (model.spec_name, model.binary_version) == ("WhisperSpec", 6)
    for name, array in variables.items():
        assert model.variables[name].dtype == array.dtype
        np.testing.assert_array_equal(model.variables[name], array)
    np.testing.assert_array_equal(model.variables["b/weight"], variables["a/weight"])
    assert int(model.variables["num_heads"]) == 6


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "model.bin"
    write_ct2_model(path, "WhisperSpec", {"w": np.ones((64, 64), np.float32)})
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="ended"):
        read_ct2_model(path)
