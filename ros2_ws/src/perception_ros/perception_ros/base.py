"""The base of the model-holding nodes: parameters, lifecycle, worker thread, diagnostics.

A subclass names its options classes and implements ``load`` (build the library object),
``make_io`` (publishers and the subscription) and ``process`` (one input → publish); it may
replace ``make_queue``. The base owns the rest: parameters declared from the dataclasses (names =
field paths, defaults from the class), a failed configure logged with its cause, a mailbox
between the subscription and a worker thread (by default a one-slot newest-wins mailbox; drops
counted), and diagnostics on /diagnostics.
"""

from __future__ import annotations

import signal
import threading
import time
import traceback
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.lifecycle import LifecycleNode, State, TransitionCallbackReturn
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

from perception.errors import ConfigError, PerceptionError, one_line
from perception.ros.flow import BoundedFifo, LatestSlot, StreamStats
from perception.ros.options import NodeOptions
from perception.ros.params import build, check_declared, flatten

SENSOR_QOS = qos_profile_sensor_data  # best effort, shallow: camera frames (newest wins)
# Audio is a stream too, but every chunk is part of an utterance: best effort with a 5 s queue
# (250 chunks of 20 ms), so a reader busy for a moment (the recogniser holding the GIL) loses
# nothing. With the 5-deep sensor-data queue, a loaded 2-core machine lost mid-sentence chunks.
AUDIO_QOS = QoSProfile(depth=250, reliability=ReliabilityPolicy.BEST_EFFORT)
RESULT_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)  # results


class ModelNode(LifecycleNode):
    options_class: type = object  # the model options dataclass (set by subclasses)
    executor_threads = 2  # callbacks that may run at once (a service node blocks one per request)

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)  # kwargs: context, parameter_overrides (tests)
        self._declare(self.options_class(), "")
        self._declare(NodeOptions(), "node.")
        self.node_options = build(NodeOptions, self._values(), "node.")
        self._parameter_error = undeclared_parameters(self)  # configure fails with it
        self.stats = StreamStats()
        self.slot: LatestSlot | BoundedFifo | None = None
        self.model: Any = None
        self._worker: threading.Thread | None = None
        self._io: list[tuple[str, Any]] = []  # created in configure, destroyed in cleanup
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", RESULT_QOS)
        self.create_timer(self.node_options.diagnostics_period_s, self._publish_diagnostics)

    def _declare(self, options: Any, prefix: str) -> None:
        dynamic = ParameterDescriptor(dynamic_typing=True)
        for name, value in flatten(options, prefix).items():
            self.declare_parameter(name, value, dynamic)

    def _values(self) -> dict[str, Any]:
        names = [*flatten(self.options_class()), *flatten(NodeOptions(), "node.")]
        return {n: self.get_parameter(n).value for n in names}

    # lifecycle -------------------------------------------------------------------------------
    def on_configure(self, state: State) -> TransitionCallbackReturn:
        try:
            if self._parameter_error:
                raise ConfigError(self._parameter_error)
            values = {k: v for k, v in self._values().items() if not k.startswith("node.")}
            options = build(self.options_class, values)
            start = time.perf_counter()
            self.model = self.load(options)
            self.get_logger().info(f"loaded in {time.perf_counter() - start:.1f} s: {options}")
        except Exception as exc:  # any cause is a FAILURE transition with the reason logged
            self.get_logger().error(f"configure failed: {one_line(exc)}")
            self.model = None
            return TransitionCallbackReturn.FAILURE
        self.slot = self.make_queue()
        self.make_io()
        self._worker = threading.Thread(target=self._work, daemon=True)
        self._worker.start()
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        if self.slot is not None:
            self.slot.close()
        if self._worker is not None:
            self._worker.join(timeout=30.0)
        for kind, entity in self._io:
            if kind == "pub":
                self.destroy_lifecycle_publisher(entity)
            elif kind == "srv":
                self.destroy_service(entity)
            else:
                self.destroy_subscription(entity)
        self._io.clear()
        self.model, self.slot, self._worker = None, None, None  # frees the model
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        return self.on_cleanup(state)

    def add_publisher(self, msg_type: type, topic: str) -> Any:
        """A lifecycle result publisher (reliable), destroyed again in cleanup."""
        pub = self.create_lifecycle_publisher(msg_type, topic, RESULT_QOS)
        self._io.append(("pub", pub))
        return pub

    def add_service(self, srv_type: type, name: str, callback: Any) -> Any:
        """A service, destroyed again in cleanup."""
        srv = self.create_service(srv_type, name, callback)
        self._io.append(("srv", srv))
        return srv

    def add_subscription(
        self, msg_type: type, topic: str, callback: Any, qos: QoSProfile = SENSOR_QOS
    ) -> Any:
        """A stream subscription (sensor-data QoS by default), destroyed again in cleanup."""
        sub = self.create_subscription(msg_type, topic, callback, qos)
        self._io.append(("sub", sub))
        return sub

    # flow ------------------------------------------------------------------------------------
    def make_queue(self) -> LatestSlot | BoundedFifo:
        """The mailbox between subscription and worker (newest wins; speech keeps a FIFO)."""
        return LatestSlot()

    def offer(self, item: Any, active_only: bool = True) -> int:
        """Called by the subscription: queue ``item``; items arriving while inactive are
        dropped. Returns how many queued items were dropped (counted on /diagnostics)."""
        self.stats.on_received()
        if self.slot is None or (active_only and not self._active()):
            self.stats.on_dropped()
            return 1
        before = self.slot.dropped
        self.slot.put(item)
        dropped = self.slot.dropped - before
        self.stats.on_dropped(dropped)
        return dropped

    def _active(self) -> bool:
        return self._state_machine.current_state[1] == "active"

    def _work(self) -> None:
        slot = self.slot
        while slot is not None and not slot.closed and self.context.ok():
            item = slot.take(timeout_s=0.5)
            if item is None:
                continue
            start = time.perf_counter()
            try:
                self.process(item)
            except PerceptionError as exc:
                self.stats.on_failed()
                self.get_logger().warning(f"skipped one input: {exc}", throttle_duration_sec=2.0)
                continue
            except Exception:  # a bug must be visible, and must not kill the worker
                if not self.context.ok():
                    return  # shutting down: the publisher's context is gone
                self.stats.on_failed()
                self.get_logger().error(traceback.format_exc(), throttle_duration_sec=2.0)
                continue
            finally:
                slot.done()
            self.stats.on_processed((time.perf_counter() - start) * 1e3)

    def _publish_diagnostics(self) -> None:
        s = self.stats.summary()
        values = [
            KeyValue(key=k, value=f"{v:.3f}" if isinstance(v, float) else str(v))
            for k, v in s.__dict__.items()
        ]
        values += [KeyValue(key=k, value=str(v)) for k, v in self.extra_diagnostics().items()]
        level = DiagnosticStatus.WARN if s.dropped or s.failed else DiagnosticStatus.OK
        status = DiagnosticStatus(
            level=level,
            name=self.get_fully_qualified_name(),
            message=f"{s.processed} processed, {s.dropped} dropped, {s.failed} failed",
            hardware_id="",
            values=values,
        )
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(msg)

    def extra_diagnostics(self) -> dict[str, object]:
        """Node-specific counters added to the diagnostics' values (none by default)."""
        return {}

    # subclass interface: every node (text_detector, speech) overrides all three --------------
    def load(self, options: Any) -> Any:
        """Build the library object from the options (called in configure)."""
        raise NotImplementedError(f"{type(self).__name__} must override load()")

    def make_io(self) -> None:
        """Create the node's publishers and subscriptions (called in configure)."""
        raise NotImplementedError(f"{type(self).__name__} must override make_io()")

    def process(self, item: Any) -> None:
        """Handle one item taken from the newest-wins slot (worker thread)."""
        raise NotImplementedError(f"{type(self).__name__} must override process()")


def spin(node_class: type, name: str) -> int:
    """Run one node until Ctrl-C / SIGTERM; autostart configures and activates it."""
    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

    from perception.ros.env import apply_safe_ros_env

    apply_safe_ros_env()
    rclpy.init()
    try:
        node = node_class(name)
    except PerceptionError as exc:  # e.g. a bad node.* value: one line, exit 1
        print(f"{name}: could not start: {exc}", flush=True)
        rclpy.shutdown()
        return 1
    code = 0
    try:
        if isinstance(node, ModelNode) and node.node_options.autostart:
            if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                code = 1
                return code
            node.trigger_activate()
        executor = MultiThreadedExecutor(num_threads=getattr(node, "executor_threads", 2))
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        # Ctrl-C shuts the context down from the signal handler; an executor then waiting
        # raises rclpy's RCLError ("the given context is not valid") instead of
        # ExternalShutdownException. That is a normal stop; anything else is not.
        if rclpy.ok():
            raise
    finally:
        if isinstance(node, ModelNode):
            node.on_cleanup(None)  # frees the model and stops the worker in any state
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return code


def declare_options(node: Any, cls: type) -> Any:
    """Declare the fields of ``cls`` as parameters of a plain node and build the options.

    Raises:
        ConfigError: a parameter given to the node that it does not declare, or a bad value.
    """
    dynamic = ParameterDescriptor(dynamic_typing=True)
    for name, value in flatten(cls()).items():
        node.declare_parameter(name, value, dynamic)
    error = undeclared_parameters(node)
    if error:
        raise ConfigError(error)
    return build(cls, {n: node.get_parameter(n).value for n in flatten(cls())})


def undeclared_parameters(node: Any) -> str:
    """The error for parameters given to ``node`` that it does not declare ("" when none)."""
    # rclpy keeps every value given to the node (command line, files, constructor) here and
    # drops those no declaration asks for; it has no public accessor
    given = getattr(node, "_parameter_overrides", {})
    declared = node.list_parameters([], 0).names  # depth 0: every name
    try:
        check_declared(given, declared, node.get_name())
    except ConfigError as exc:
        return str(exc)
    return ""


def run_plain(node_factory: Any) -> int:
    """Spin a source node until it finishes, Ctrl-C or SIGTERM; 1 when it could not start."""
    import rclpy
    from rclpy.executors import ExternalShutdownException

    from perception.ros.env import apply_safe_ros_env

    apply_safe_ros_env()
    rclpy.init()
    node = None
    try:
        node = node_factory()
        while rclpy.ok() and not node.done:
            rclpy.spin_once(node, timeout_sec=0.1)
        return 1 if getattr(node, "error", "") else 0
    except (PerceptionError, ImportError, OSError) as exc:
        print(f"source node failed: {type(exc).__name__}: {exc}", flush=True)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        # a Ctrl-C that lands while the node is already exiting (a wav that just ended) would
        # kill the interpreter during teardown (exit -2); the exit code is decided above
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
