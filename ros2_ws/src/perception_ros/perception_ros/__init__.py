"""ROS 2 nodes of the perception stack: thin wrappers over ``perception``.

Each node declares parameters from an options dataclass, builds the library object, converts
messages with ``perception.ros.convert`` and publishes. No model logic lives here.
"""
