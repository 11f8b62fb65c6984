"""ROS 2 helpers that import without rclpy: safe environment, message conversions, flow control.

This package owns what the ROS nodes, the launcher and the bag tools share. It does not spin
nodes; rclpy and the generated ``perception_msgs`` types are imported lazily, only by the
functions that build messages.
"""
