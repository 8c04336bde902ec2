"""Math answer checking on math-verify, with a hard per-item timeout enforced from outside.

The verdict is True / False / None ("could not judge"), never an exception:
- False: the response has no final answer, an unparseable one, or one not equivalent to the gold;
- None: the gold cannot be parsed, the check timed out, or the checker itself failed.

math-verify's own timeouts use SIGALRM, which only works in a main thread and does not stop C-level loops, so
checks run in worker subprocesses. The parent waits at most
`timeout_s` for each item and kills and replaces a worker that overruns, so inputs such as
`\\boxed{10^{10^{10^{10}}}}` or a 50 kB expression cannot hang a run. Gold answers are parsed once per worker.

>>> check_answer("\\\\frac{1}{2}", "so the answer is \\\\boxed{0.5}").correct
True
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from multiprocessing.connection import wait

from midrl_bench.verify.extract import extract_final_answer

DEFAULT_TIMEOUT_S = 5.0
WORKER_MEMORY_BYTES = 4 << 30  # a runaway sympy expansion fails with MemoryError instead of swapping the host
MAX_ANSWER_CHARS = 20_000  # longer "answers" are not answers; judged False without parsing
CHUNK_ITEMS = 32  # items per message to a worker: amortises pipe round trips, bounded so the queue stays balanced


@dataclass(frozen=True)
class Verdict:
    correct: bool | None
    reason: str
    extracted: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------------------------- worker side
_GOLD_CACHE: dict[str, object] = {}


def _parse_latex(text: str):
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    configs = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    return parse(f"$\\boxed{{{text}}}$", extraction_config=configs, parsing_timeout=None)


def _parsed_gold(gold: str):
    if gold not in _GOLD_CACHE:
        if len(_GOLD_CACHE) > 50_000:
            _GOLD_CACHE.clear()
        _GOLD_CACHE[gold] = _parse_latex(gold)
    return _GOLD_CACHE[gold]


def judge(gold: str, response: str) -> Verdict:
    """The check itself, in-process and without a timeout: call it only inside a worker."""
    from math_verify import verify

    answer, where = extract_final_answer(response)
    if answer is None:
        return Verdict(False, "no_final_answer")
    if len(answer) > MAX_ANSWER_CHARS:
        return Verdict(False, "answer_too_long", answer[:200])
    try:
        gold_parsed = _parsed_gold(str(gold))
        if not gold_parsed:
            return Verdict(None, "gold_unparseable", answer)
        answer_parsed = _parse_latex(answer)
        if not answer_parsed:
            return Verdict(False, f"unparseable_answer({where})", answer)
        equal = verify(gold_parsed, answer_parsed, timeout_seconds=None)
    except MemoryError:
        return Verdict(None, "memory_limit", answer[:200])
    except Exception as error:  # math-verify/sympy raise many types on odd input; never let one escape
        return Verdict(None, f"checker_error: {type(error).__name__}", answer[:200])
    return Verdict(bool(equal), f"{'equivalent' if equal else 'not_equivalent'}({where})", answer)


def _worker_main() -> None:
    """Worker process: JSON lines in on stdin, JSON lines out on stdout, one item at a time."""
    import json
    import sys

    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    import math_verify  # noqa: F401  (imported before the handshake so the first item's clock is fair)

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        for index, gold, response in json.loads(line):
            verdict = judge(gold, response)
            sys.stdout.write(json.dumps([index, verdict.correct, verdict.reason, verdict.extracted]) + "\n")
            sys.stdout.flush()


# --------------------------------------------------------------------------------------------- parent side
class _Worker:
    """A checker subprocess (`python -m midrl_bench.verify.math`); independent of the caller's __main__."""

    def __init__(self) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "midrl_bench.verify.math", "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, start_new_session=True, bufsize=0,
        )
        self._buffer = b""
        self._lines: list[bytes] = []
        self.in_flight: list[int] = []  # item indices sent and not yet answered, in the worker's order
        self.started_at = 0.0  # when the worker began its current (first in-flight) item
        self.ready = False

    def send(self, items: list[tuple[int, str, str]]) -> None:
        """Send a chunk in one message (fewer round trips); results still come back one line per item."""
        if not self.ready:  # wait for the worker's imports, so start-up time is not charged to an item
            while not self._lines:
                self.read_available()
            if self._lines.pop(0).strip() != b"ready":
                raise RuntimeError("math checker worker failed to start")
            self.ready = True
        self.in_flight = [index for index, _, _ in items]
        self.started_at = time.monotonic()
        self.process.stdin.write((json.dumps(items) + "\n").encode("utf-8"))
        self.process.stdin.flush()

    def read_available(self) -> None:
        """One read of whatever the pipe holds (blocks only if it is empty); complete lines are queued."""
        data = os.read(self.process.stdout.fileno(), 1 << 16)
        if not data:
            raise EOFError("checker worker exited")
        *complete, self._buffer = (self._buffer + data).split(b"\n")
        self._lines.extend(complete)

    def results(self) -> list[tuple[int, bool | None, str, str | None]]:
        """Every result that has fully arrived; each one restarts the clock for the next in-flight item."""
        self.read_available()
        answered = [tuple(json.loads(line)) for line in self._lines]
        self._lines = []
        for _ in answered:
            self.in_flight.pop(0)
        if answered:
            self.started_at = time.monotonic()
        return answered

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def stop(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


class MathChecker:
    """A pool of checker processes. Use as a context manager, or the module-level `check_answers`."""

    def __init__(self, workers: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.worker_count = max(1, workers or os.cpu_count() or 1)
        self.timeout_s = timeout_s
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()

    def __enter__(self) -> MathChecker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers = []

    def check(self, gold: str, response: str) -> Verdict:
        return self.check_many([(gold, response)])[0]

    def check_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        """Verdicts in input order; every item bounded by `timeout_s` of worker time."""
        with self._lock:
            return self._run(pairs)

    def _run(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        results: list[Verdict | None] = [None] * len(pairs)
        # A stack ordered by gold, so a chunk's items share their gold and each worker parses a gold once (its cache).
        pending = sorted(range(len(pairs)), key=lambda i: (str(pairs[i][0]), i), reverse=True)
        while len(self._workers) < min(self.worker_count, len(pairs)):
            self._workers.append(_Worker())
        idle = list(self._workers)
        busy: list[_Worker] = []
        while pending or busy:
            while pending and idle:
                size = max(1, min(CHUNK_ITEMS, len(pending) // (len(idle) + len(busy)) or 1))
                chunk = [pending.pop() for _ in range(min(size, len(pending)))]
                worker = idle.pop()
                worker.send([(index, str(pairs[index][0]), str(pairs[index][1])) for index in chunk])
                busy.append(worker)
            self._collect(busy, idle, results, pending)
        return [verdict for verdict in results if verdict is not None]

    def _collect(self, busy: list[_Worker], idle: list[_Worker], results: list, pending: list[int]) -> None:
        wait_s = max(0.0, min(w.started_at + self.timeout_s for w in busy) - time.monotonic())
        ready = wait([w.process.stdout for w in busy], timeout=wait_s)
        for worker in list(busy):
            if worker.process.stdout in ready:
                try:
                    answered = worker.results()
                except (EOFError, OSError, ValueError):
                    self._fail_head(worker, "checker_crashed", busy, idle, results, pending)
                    continue
                for index, correct, reason, extracted in answered:
                    results[index] = Verdict(correct, reason, extracted)
                if not worker.in_flight:
                    busy.remove(worker)
                    idle.append(worker)
            elif time.monotonic() - worker.started_at >= self.timeout_s:
                self._fail_head(worker, f"timeout({self.timeout_s:g}s)", busy, idle, results, pending)

    def _fail_head(self, worker: _Worker, reason: str, busy: list[_Worker], idle: list[_Worker], results: list,
                   pending: list[int]) -> None:
        """The worker's current item gets `reason`; its unanswered items go back to the queue; it is replaced."""
        head, *rest = worker.in_flight
        results[head] = Verdict(None, reason)
        pending.extend(reversed(rest))
        worker.kill()
        busy.remove(worker)
        self._workers.remove(worker)
        fresh = _Worker()
        self._workers.append(fresh)
        idle.append(fresh)


_SHARED: MathChecker | None = None
_SHARED_LOCK = threading.Lock()


def shared_checker() -> MathChecker:
    """A process-wide pool, created on first use and closed at exit."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = MathChecker()
            atexit.register(_SHARED.close)
        return _SHARED


def check_answers(pairs: Sequence[tuple[str, str]], timeout_s: float | None = None) -> list[Verdict]:
    """Check (gold, response) pairs in the shared pool."""
    checker = shared_checker()
    if timeout_s is not None:
        checker.timeout_s = timeout_s
    return checker.check_many(pairs)


def check_answer(gold: str, response: str, timeout_s: float | None = None) -> Verdict:
    return check_answers([(gold, response)], timeout_s=timeout_s)[0]


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    _worker_main()
