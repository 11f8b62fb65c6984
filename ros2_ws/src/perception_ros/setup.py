"""perception_ros: an ament_python package, also pip-installable.

`pip install -e ros2_ws/src/perception_ros` on a pip-only machine; colcon on a ROS install.
"""

import sys
from glob import glob
from pathlib import Path

from setuptools import setup

# the executables are listed once, in perception_ros/__main__.py (which imports nothing heavy)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from perception_ros.__main__ import NODES  # noqa: E402

PACKAGE = "perception_ros"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=[PACKAGE],
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("../../../launch/*.yaml")),
        (f"share/{PACKAGE}/launch/params", glob("../../../launch/params/*.yaml")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="perception maintainers",
    description="Lifecycle nodes over the perception library: scene text, speech, sources.",
    license="Apache-2.0",
    entry_points={"console_scripts": [f"{n} = {PACKAGE}.{n}:main" for n in NODES]},
)
