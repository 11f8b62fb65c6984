"""LLM services node: the on-board LLM behind its guards, as ROS 2 services and an action.

Serves ``~/generate_text`` (GenerateText: guard the prompt, generate, guard the reply),
``~/check_text`` (CheckText), ``~/correct_transcript`` (CorrectTranscript: GER over an N-best
list, without the Whisper acceptance check since no audio comes with it) and the ``~/answer``
action (Answer: partial answers as feedback, cancellation, ``answer_timeout_s``). Transcripts on
``transcript`` and scene text on ``regions`` are screened for injection before they become the
answers' context. One process holds one LLM; requests wait in a bounded queue
(``queue_size``) and one more is answered "busy". Guards fail closed: a check that errs refuses,
says why and is counted on /diagnostics. Parameters are the fields of
:class:`perception.llm.service.ServiceOptions` plus ``node.*``.
"""

from __future__ import annotations

import time

from perception_msgs.action import Answer
from perception_msgs.msg import TextRegions, Transcript
from perception_msgs.srv import CheckText, CorrectTranscript, GenerateText
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup

from perception.errors import PerceptionError, one_line
from perception.llm.service import Busy, JobQueue, LlmService, Reply, ServiceOptions
from perception.ros.flow import BoundedFifo
from perception_ros.base import RESULT_QOS, ModelNode, spin


class LlmServiceNode(ModelNode):
    options_class = ServiceOptions
    executor_threads = 8

    def load(self, options: ServiceOptions) -> LlmService:
        self.jobs = JobQueue(options.queue_size)
        return LlmService(options)

    def make_queue(self) -> BoundedFifo:
        return BoundedFifo(self.node_options.queue_size)  # texts waiting to be screened

    def make_io(self) -> None:
        group = ReentrantCallbackGroup()
        self._servers = [
            self.create_service(
                GenerateText, "~/generate_text", self.on_generate, callback_group=group
            ),
            self.create_service(CheckText, "~/check_text", self.on_check, callback_group=group),
            self.create_service(
                CorrectTranscript, "~/correct_transcript", self.on_correct, callback_group=group
            ),
        ]
        self._action = ActionServer(
            self,
            Answer,
            "~/answer",
            self.on_answer,
            goal_callback=lambda _: GoalResponse.ACCEPT,
            cancel_callback=lambda _: CancelResponse.ACCEPT,
            callback_group=group,
        )
        self.add_subscription(Transcript, "transcript", lambda m: self.offer(m.text), RESULT_QOS)
        self.add_subscription(
            TextRegions,
            "regions",
            lambda m: [self.offer(r.text) for r in m.regions if r.text.strip()],
            RESULT_QOS,
        )

    def process(self, text: str) -> None:
        """Screen one routed transcript or scene text (worker thread)."""
        verdict = self.model.screen_context(text)
        if not verdict.allowed:
            self.get_logger().warning(f"screened out {text[:60]!r}: {verdict.message}")

    def on_cleanup(self, state):
        for server in getattr(self, "_servers", []):
            self.destroy_service(server)
        if getattr(self, "_action", None) is not None:
            self._action.destroy()
            self._action = None
        if getattr(self, "jobs", None) is not None:
            self.jobs.close()
        self._servers = []
        return super().on_cleanup(state)

    def extra_diagnostics(self) -> dict[str, object]:
        if self.model is None:
            return {}
        return {**self.model.counts, "guard_errors": self.model.guard_errors}

    def _run(self, job) -> object:
        """Run ``job`` on the model's worker; Busy when the queue is full; None when inactive."""
        if self.model is None or not self._active():
            raise PerceptionError("the LLM service is not active; configure and activate it")
        try:
            return self.jobs.submit(job).result()
        except Busy:
            self.model.count("busy")
            raise

    def on_generate(self, request, response):
        start = time.perf_counter()
        try:
            reply: Reply = self._run(
                lambda: self.model.generate(
                    request.prompt,
                    request.system_prompt,
                    request.max_new_tokens,
                    request.temperature,
                )
            )
            response.success, response.reply, response.message = (
                reply.success,
                reply.text,
                reply.message,
            )
            response.generated_tokens = reply.generated_tokens
        except Exception as exc:  # any failure is the response's message, never a dead call
            self.stats.on_failed()
            response.success, response.message = False, one_line(exc)
        response.latency_ms = (time.perf_counter() - start) * 1e3
        response.model_id = self.model.model_id if self.model else ""
        return response

    def on_check(self, request, response):
        start = time.perf_counter()
        direction = request.direction or "prompt"
        if direction not in ("prompt", "reply", "context") or self.model is None:
            response.allowed, response.message = (
                False,
                f"direction must be prompt, reply or context, got {direction!r}"
                if self.model
                else "not configured",
            )
            return response
        try:
            verdict = self.model.check(request.text, direction)
        except Exception as exc:  # a failed check never allows: the reason is the message
            self.stats.on_failed()
            response.allowed, response.message = False, f"check failed: {one_line(exc)}"
            return response
        response.allowed, response.message = verdict.allowed, verdict.message
        response.labels = list(verdict.labels)
        response.scores = [verdict.scores.get(label, 1.0) for label in verdict.labels]
        response.latency_ms = (time.perf_counter() - start) * 1e3
        return response

    def on_correct(self, request, response):
        start = time.perf_counter()
        try:
            result = self._run(lambda: self.model.correct(list(request.hypotheses)))
            response.success, response.text, response.llm_text = True, result.text, result.llm_text
            response.message = result.message
        except Exception as exc:  # any failure is the response's message, never a dead call
            self.stats.on_failed()
            response.success, response.message = False, one_line(exc)
        response.latency_ms = (time.perf_counter() - start) * 1e3
        response.model_id = self.model.model_id if self.model else ""
        return response

    def on_answer(self, goal_handle):
        start, goal = time.perf_counter(), goal_handle.request

        def partial(text: str, n: int) -> None:
            goal_handle.publish_feedback(Answer.Feedback(partial_answer=text, generated_tokens=n))

        try:
            reply: Reply = self._run(
                lambda: self.model.answer(
                    goal.question,
                    list(goal.context) or None,
                    max_new_tokens=goal.max_new_tokens,
                    on_partial=partial,
                    should_stop=lambda: goal_handle.is_cancel_requested,
                )
            )
        except Exception as exc:  # any failure aborts this goal with its reason
            self.stats.on_failed()
            reply = Reply(False, "", one_line(exc))
        result = Answer.Result(success=reply.success, message=reply.message, answer=reply.text)
        result.latency_ms = (time.perf_counter() - start) * 1e3
        if goal_handle.is_cancel_requested:
            goal_handle.canceled()
        elif reply.success:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        return result


def main() -> int:
    return spin(LlmServiceNode, "llm")
