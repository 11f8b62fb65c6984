"""Bags: writing, reading, the sample bag, and offline evaluation with reports.

Everything here goes through ``rosbags`` (pure Python; sqlite3 and MCAP storage), so it runs on
machines without ``rosbag2_py``. Recording from a live graph lives in :mod:`perception.bag.record`
and is the only module that imports rclpy.
"""
