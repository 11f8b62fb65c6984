"""Bags: writing, reading, the sample bag, and offline evaluation with reports.

Everything here goes through ``rosbags`` (pure Python; ROS 2 sqlite3 and MCAP storage, ROS 1
``.bag`` files), so it runs on machines without ``rosbag2_py``. Recording from a live graph
(:mod:`perception.bag.record`), playing onto one (:mod:`perception.bag.play`) and the live
evaluation (:mod:`perception.bag.live`) are the modules that import rclpy, inside functions.
"""
