"""Worker processes of the math checker: spawning, the per-item hard timeout, and clean-up.

Workers are `python -m midrl_bench.verify.math_worker` processes, each in its own session (so a terminal's Ctrl-C
reaches the parent only, which then cleans up). They die with their parent three ways: the kernel's parent-death
signal armed in the worker (covers SIGKILL of the parent), `kill_all_workers()` at interpreter exit, and on SIGTERM
where the entry point installs it (`midrl verify math` does). The parent-death signal fires when the *thread* that
spawned a worker exits, so workers are always spawned from the main thread or from one long-lived spawner thread.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import wait

CHUNK_ITEMS = 32  # items per message to a worker: amortises pipe round trips, bounded so the queue stays balanced
START_TIMEOUT_S = 300.0  # imports + self-test; a worker silent this long is broken
MAX_LOST_WORKERS = 20  # workers found dead while idle within one batch before the pool gives up


@dataclass(frozen=True)
class Failure:
    """An item the pool could not get an answer for (timeout, crashed worker)."""

    reason: str


_LIVE: set[_Worker] = set()
_STATE_LOCK = threading.Lock()
_STATE = {"atexit": False}
_SELF_TEST_PASSED: set[tuple[str, str]] = set()  # (interpreter, PYTHONPATH) whose worker passed the parser self-test


def _environment_key() -> tuple[str, str]:
    return sys.executable, os.environ.get("PYTHONPATH", "")
_SPAWNER: list[ThreadPoolExecutor] = []


def kill_all_workers() -> None:
    """Kill every live checker worker of this process (and its process group); safe to call from a signal handler."""
    for worker in list(_LIVE):
        worker.kill()


def _spawn(command: list[str]) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}

    def start() -> subprocess.Popen:
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env=env, start_new_session=True, bufsize=0)

    if threading.current_thread() is threading.main_thread():
        return start()
    with _STATE_LOCK:
        if not _SPAWNER:
            _SPAWNER.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="midrl-checker-spawner"))
    return _SPAWNER[0].submit(start).result()


class _Worker:
    def __init__(self) -> None:
        with _STATE_LOCK:
            self.environment = _environment_key()
            skip = self.environment in _SELF_TEST_PASSED
            if not _STATE["atexit"]:
                atexit.register(kill_all_workers)
                _STATE["atexit"] = True
        command = [sys.executable, "-m", "midrl_bench.verify.math_worker", "--parent-pid", str(os.getpid())]
        self.process = _spawn(command + (["--skip-self-test"] if skip else []))
        _LIVE.add(self)
        self._buffer = b""
        self._lines: list[bytes] = []
        self.in_flight: list[int] = []  # item indices sent and not yet answered, in the worker's order
        self.started_at = 0.0  # when the worker began its current (first in-flight) item
        self.ready = False

    def await_ready(self) -> None:
        """Wait for the worker's imports and self-test, so start-up time is not charged to an item."""
        from midrl_bench.verify.selftest import CheckerSetupError

        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._lines:
            if not wait([self.process.stdout], timeout=max(0.0, deadline - time.monotonic())):
                raise RuntimeError(f"math checker worker did not start within {START_TIMEOUT_S:g} s")
            try:
                self.read_available()
            except (EOFError, OSError):
                raise RuntimeError("math checker worker exited during start-up") from None
        first = self._lines.pop(0).decode("utf-8", "replace").strip()
        if first.startswith("selftest_failed "):
            raise CheckerSetupError(first[len("selftest_failed ") :])
        if first != "ready":
            raise RuntimeError("math checker worker failed to start")
        with _STATE_LOCK:
            _SELF_TEST_PASSED.add(self.environment)
        self.ready = True

    def send(self, request: dict, indices: list[int]) -> None:
        if not self.ready:
            self.await_ready()
        self.in_flight = list(indices)
        self.started_at = time.monotonic()
        self.process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
        self.process.stdin.flush()

    def read_available(self) -> None:
        """One read of whatever the pipe holds (blocks only if it is empty); complete lines are queued."""
        data = os.read(self.process.stdout.fileno(), 1 << 16)
        if not data:
            raise EOFError("checker worker exited")
        *complete, self._buffer = (self._buffer + data).split(b"\n")
        self._lines.extend(complete)

    def results(self) -> list[tuple[int, object]]:
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
        _LIVE.discard(self)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: the group holds anything it started
        except (ProcessLookupError, PermissionError, OSError):
            pass
        try:
            self.process.kill()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def stop(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=2)
            _LIVE.discard(self)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


class Pool:
    """Up to `workers` worker processes; `run` answers a batch with a hard per-item timeout."""

    def __init__(self, workers: int | None = None) -> None:
        self.worker_count = max(1, workers or os.cpu_count() or 1)
        self._workers: list[_Worker] = []

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers = []

    def start(self) -> None:
        """Start every worker and wait for its self-test; raises CheckerSetupError when the parser is broken."""
        try:
            while len(self._workers) < self.worker_count:
                self._workers.append(_Worker())
            for worker in self._workers:
                if not worker.ready:
                    worker.await_ready()
        except BaseException:
            self.close()
            raise

    def run(self, op: str, policy: str, items: list[tuple[str, str]], timeout_s: float) -> list:
        """One payload (or Failure) per item, in input order. On any error (a failed self-test, an interrupt) the
        pool's workers are killed, so no stale answer can reach a later batch."""
        try:
            return self._run(op, policy, items, timeout_s)
        except BaseException:
            for worker in self._workers:
                worker.kill()
            self._workers = []
            raise

    def _run(self, op: str, policy: str, items: list[tuple[str, str]], timeout_s: float) -> list:
        results: list = [None] * len(items)
        # A stack ordered by first field, so a chunk's items share their gold and each worker parses a gold once.
        pending = sorted(range(len(items)), key=lambda i: (items[i][0], i), reverse=True)
        while len(self._workers) < min(self.worker_count, len(items)):
            self._workers.append(_Worker())
        idle, busy = list(self._workers), []
        lost = 0
        while pending or busy:
            while pending and idle:
                size = max(1, min(CHUNK_ITEMS, len(pending) // (len(idle) + len(busy)) or 1))
                chunk = [pending.pop() for _ in range(min(size, len(pending)))]
                worker = idle.pop()
                try:
                    worker.send({"op": op, "policy": policy, "items": [(i, *items[i]) for i in chunk]}, chunk)
                except OSError:  # it died while idle (killed from outside): replace it and requeue the chunk
                    lost += 1
                    if lost > MAX_LOST_WORKERS:
                        raise RuntimeError(f"math checker workers keep dying ({lost} lost while idle)") from None
                    pending.extend(reversed(chunk))
                    idle.append(self._replace(worker))
                    continue
                busy.append(worker)
            self._collect(busy, idle, results, pending, timeout_s)
        return results

    def _collect(self, busy: list[_Worker], idle: list[_Worker], results: list, pending: list[int],
                 timeout_s: float) -> None:
        wait_s = max(0.0, min(w.started_at + timeout_s for w in busy) - time.monotonic())
        ready = wait([w.process.stdout for w in busy], timeout=wait_s)
        for worker in list(busy):
            if worker.process.stdout in ready:
                try:
                    answered = worker.results()
                except (EOFError, OSError, ValueError):
                    self._fail_head(worker, "checker_crashed", busy, idle, results, pending)
                    continue
                for index, payload in answered:
                    results[index] = payload
                if not worker.in_flight:
                    busy.remove(worker)
                    idle.append(worker)
            elif time.monotonic() - worker.started_at >= timeout_s:
                self._fail_head(worker, f"timeout({timeout_s:g}s)", busy, idle, results, pending)

    def _fail_head(self, worker: _Worker, reason: str, busy: list[_Worker], idle: list[_Worker], results: list,
                   pending: list[int]) -> None:
        """The worker's current item gets `reason`; its unanswered items go back to the queue; it is replaced."""
        head, *rest = worker.in_flight
        results[head] = Failure(reason)
        pending.extend(reversed(rest))
        busy.remove(worker)
        idle.append(self._replace(worker))

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        self._workers.remove(worker)
        fresh = _Worker()
        self._workers.append(fresh)
        return fresh
