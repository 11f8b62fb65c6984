"""The LLM services' logic, without ROS: guarded generation, checks, transcript correction,
answers from screened context, and a bounded request queue.

Owns the order of a guarded request (check the prompt → generate → check the reply), failing
closed (a guard error refuses and is counted), the context memory of screened transcripts and
scene text, and the one-worker job queue that answers "busy" when full. One instance holds one
LLM; the ROS node (perception_ros.llm_service) only converts messages.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from perception.config import check
from perception.errors import PerceptionError
from perception.llm.causal_lm import load_causal_lm
from perception.llm.chat import ROBOT_SYSTEM_PROMPT, messages, stream
from perception.llm.guard.detectors import Verdict
from perception.llm.guard.screen import Screen, ScreenOptions
from perception.models.store import ModelStore
from perception.speech.ger import Corrector, LlmOptions, example_lines
from perception.speech.guards import GuardOptions, echoes_prompt


class Busy(PerceptionError):
    """The request queue is full."""


@dataclass(frozen=True)
class ServiceOptions:
    """The LLM (card + adapter), generation defaults, guards, queue and answer limits."""

    model: str = "smollm2-135m-instruct"
    adapter: str = "smollm2-135m-safety"  # '' = the base model alone
    sparse_mlp_tau: float = 0.0  # > 0: DEFT sparse MLP skipping |silu(gate)| <= tau (0 = dense)
    device: str = "cpu"
    system_prompt: str = ROBOT_SYSTEM_PROMPT
    max_new_tokens: int = 96
    max_new_tokens_limit: int = 512  # a request asking for more is cut to this
    guard_prompts: bool = True
    guard_replies: bool = True
    guard: ScreenOptions = field(default_factory=ScreenOptions)
    queue_size: int = 4  # requests waiting for the model; one more is answered "busy"
    answer_timeout_s: float = 60.0
    context_items: int = 8  # screened transcripts / scene texts kept for Answer

    def __post_init__(self) -> None:
        check(self.queue_size >= 1, f"queue_size must be >= 1, got {self.queue_size}")
        check(self.max_new_tokens >= 1, f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        check(self.answer_timeout_s > 0, "answer_timeout_s must be > 0")
        check(self.sparse_mlp_tau >= 0, f"sparse_mlp_tau must be >= 0, got {self.sparse_mlp_tau}")


@dataclass(frozen=True)
class Reply:
    """A guarded generation: success, the text (empty when refused), and why not."""

    success: bool
    text: str
    message: str = ""
    generated_tokens: int = 0
    latency_ms: float = 0.0
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Correction:
    """GER's text: the corrected transcript, the LLM's own text, the guard's verdict."""

    text: str
    llm_text: str
    message: str
    latency_ms: float


class JobQueue:
    """One worker runs jobs in order; at most ``maxsize`` may wait (more raise Busy)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize, self._pending = maxsize, 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm")

    def submit(self, job: Callable[[], object]) -> Future:
        with self._lock:
            if self._pending >= self.maxsize + 1:  # one running + maxsize waiting
                raise Busy(
                    f"busy: {self._pending} requests ahead (queue_size {self.maxsize}); "
                    "try again later"
                )
            self._pending += 1
        future = self._pool.submit(job)
        future.add_done_callback(lambda _: self._done())
        return future

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1e3, 2)


class LlmService:
    """Guarded generation, checks, GER and answers with one loaded LLM."""

    def __init__(self, options: ServiceOptions | None = None, store: ModelStore | None = None):
        self.options = options or ServiceOptions()
        o = self.options
        self.lm = load_causal_lm(
            o.model, store, o.device, adapter=o.adapter, sparse_mlp_tau=o.sparse_mlp_tau
        )
        self.model_id = f"{o.model}+{o.adapter}" if o.adapter else o.model
        self.screen = Screen(o.guard, store)
        # this process's LLM (with the safety adapter) corrects: not tuned for GER, so the
        # prompt carries the few-shot examples
        self.ger_options = LlmOptions(model=o.model, adapter="", few_shot=True)
        self.corrector = Corrector(self.lm, self.ger_options)
        self.counts: Counter = Counter()
        self.context: deque[str] = deque(maxlen=o.context_items)
        self._lock = threading.Lock()

    @property
    def guard_errors(self) -> int:
        return self.screen.errors

    def count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def check(self, text: str, direction: str = "prompt") -> Verdict:
        """The guard's verdict (never raises: a failed check is a refusal)."""
        return self.screen.check(text, direction)

    def _refused(self, verdict: Verdict, what: str, start: float) -> Reply:
        self.count(f"refused_{what}")
        return Reply(
            False, "", f"{what} refused: {verdict.message}", 0, _ms(start), verdict.labels
        )

    def generate(
        self,
        prompt: str,
        system_prompt: str = "",
        max_new_tokens: int = 0,
        temperature: float = 0.0,
        on_partial: Callable[[str, int], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        timeout_s: float | None = None,
    ) -> Reply:
        """Check the prompt, generate (streaming partial text), check the reply."""
        start = time.perf_counter()
        self.count("requests")
        if self.options.guard_prompts:
            verdict = self.check(prompt, "prompt")
            if not verdict.allowed:
                return self._refused(verdict, "prompt", start)
        o = self.options
        budget = min(max_new_tokens or o.max_new_tokens, o.max_new_tokens_limit)
        deadline = start + (timeout_s or o.answer_timeout_s)
        chat = messages(prompt, system_prompt or o.system_prompt)
        stop = lambda: should_stop() or time.perf_counter() > deadline  # noqa: E731
        text, n = "", 0
        for text, n in stream(self.lm, chat, budget, temperature, stop):
            if on_partial is not None:
                on_partial(text, n)
        if should_stop():
            self.count("cancelled")
            return Reply(False, "", "cancelled", n, _ms(start))
        if time.perf_counter() > deadline:
            self.count("timeouts")
            return Reply(
                False, "", f"timed out after {timeout_s or o.answer_timeout_s:g} s", n, _ms(start)
            )
        return self._check_reply(text.strip(), n, start)

    def _check_reply(self, text: str, n: int, start: float) -> Reply:
        if self.options.guard_replies:
            verdict = self.check(text, "reply")
            if not verdict.allowed:
                return self._refused(verdict, "reply", start)
        return Reply(True, text, "", n, _ms(start))

    def screen_context(self, text: str) -> Verdict:
        """Screen a transcript or scene text for instructions aimed at the robot; kept as context
        for :meth:`answer` only when allowed."""
        verdict = self.check(text, "context")
        if verdict.allowed and text.strip():
            self.context.append(text.strip())
        else:
            self.count("context_refused")
        return verdict

    def answer(self, question: str, context: list[str] | None = None, **kwargs) -> Reply:
        """A guarded reply to ``question`` given context (the screened memory when None); each
        given context item is screened first and dropped when flagged."""
        items = (
            list(self.context)
            if context is None
            else [c for c in context if self.screen_context(c).allowed]
        )
        lines = "\n".join(f"- {c}" for c in items)
        prompt = (
            f"What the robot heard and read:\n{lines}\n\nQuestion: {question}"
            if items
            else question
        )
        return self.generate(prompt, **kwargs)

    def correct(self, hypotheses: list[str]) -> Correction:
        """GER over an N-best list with the generation guards (length budget, repetition rule,
        prompt echo); no audio, so no Whisper acceptance check. Falls back to the best
        hypothesis when the LLM's text is empty or echoes the prompt's examples."""
        start = time.perf_counter()
        if not hypotheses or not any(h.strip() for h in hypotheses):
            raise PerceptionError("correct needs at least one non-empty hypothesis")
        llm_text = self.corrector.correct(list(hypotheses), GuardOptions())
        if not llm_text:
            return Correction(hypotheses[0], llm_text, "rejected: empty answer", _ms(start))
        if echoes_prompt(llm_text, list(hypotheses), example_lines(self.ger_options)):
            return Correction(
                hypotheses[0], llm_text, "rejected: repeats a prompt example", _ms(start)
            )
        return Correction(llm_text, llm_text, "accepted (no acoustic check)", _ms(start))
