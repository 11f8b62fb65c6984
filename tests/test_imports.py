"""`import perception` (and the CLI parser) must not pull optional or heavy runtimes."""

import subprocess
import sys

import pytest

from perception.errors import MissingExtraError, require


def test_core_import_does_not_load_optional_runtimes():
    code = (
        "import sys, perception, perception.config, perception.models, perception.cli;"
        "perception.cli.build_parser();"
        "bad = [m for m in ('rclpy', 'transformers', 'tensorrt', 'whisper', 'ctranslate2')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_require_names_the_extra():
    with pytest.raises(MissingExtraError, match=r"pip install -e '\.\[gpu\]'"):
        require("surely_not_a_module_xyz", "gpu")
