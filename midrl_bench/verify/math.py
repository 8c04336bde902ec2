"""Math answer checking on math-verify, with a hard per-item timeout enforced from outside.

The verdict is True / False / None ("could not judge"), never an exception:
- False: the response has no final answer, an unparseable one, or one not equivalent to the gold;
- None: the gold cannot be parsed, the check timed out, or the checker itself failed.
Each verdict records the extraction `route` and the `extracted` answer (see midrl_bench.verify.extract).

math-verify's own timeouts use SIGALRM, which only works in a main thread and does not stop C-level loops, so
checks run in worker subprocesses (midrl_bench.verify.math_worker). The parent waits at most `timeout_s` for each
item and kills and replaces a worker that overruns, so inputs such as `\\boxed{10^{10^{10^{10}}}}` or a 50 kB
expression cannot hang a run. Policy and timeout are per checker and per call, never process-wide state. Workers
die with their parent (parent-death signal; process groups killed at exit), and the first worker of a process runs
the parser self-test (midrl_bench.verify.selftest): a broken parser raises CheckerSetupError instead of scoring.

>>> check_answer("\\\\frac{1}{2}", "so the answer is \\\\boxed{0.5}").correct
True
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence

from midrl_bench.verify.math_pool import Failure, Pool, kill_all_workers
from midrl_bench.verify.math_worker import Verdict
from midrl_bench.verify.selftest import CheckerSetupError
from midrl_bench.verify.settings import DEFAULT_POLICY, DEFAULT_TIMEOUT_S, checker_settings, validate_timeout

__all__ = [
    "CheckerSetupError", "MathChecker", "Verdict", "canonical_answers", "check_answer", "check_answers",
    "checker_settings", "kill_all_workers", "shared_checker",
]


class MathChecker:
    """A pool of checker processes with its own policy and timeout. Use as a context manager."""

    def __init__(self, workers: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 policy: str = DEFAULT_POLICY) -> None:
        from midrl_bench.verify.extract import validate_policy

        self.timeout_s = validate_timeout(timeout_s)
        self.policy = validate_policy(policy)
        self._pool = Pool(workers)
        self._lock = threading.Lock()

    @property
    def worker_count(self) -> int:
        return self._pool.worker_count

    def __enter__(self) -> MathChecker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()

    def start(self) -> MathChecker:
        """Start the workers now and run the parser self-test (otherwise both happen on the first check).

        Raises CheckerSetupError, with a one-line message naming the package and version, if the parser is broken."""
        self._pool.start()
        return self

    def settings(self) -> dict:
        return checker_settings(self.policy, self.timeout_s)

    def check(self, gold: str, response: str, *, policy: str | None = None, timeout_s: float | None = None) -> Verdict:
        return self.check_many([(gold, response)], policy=policy, timeout_s=timeout_s)[0]

    def check_many(self, pairs: Sequence[tuple[str, str]], *, policy: str | None = None,
                   timeout_s: float | None = None) -> list[Verdict]:
        """Verdicts in input order; every item bounded by the timeout of worker time."""
        policy, timeout_s = self._call_settings(policy, timeout_s)
        items = [(str(gold), str(response)) for gold, response in pairs]
        with self._lock:
            payloads = self._pool.run("check", policy, items, timeout_s)
        return [_verdict(payload) for payload in payloads]

    def canonical_many(self, answers: Sequence[str], *, timeout_s: float | None = None) -> list[str | None]:
        """A canonical string per extracted answer (None: unparseable or timed out); see `canonical_answers`."""
        _, timeout_s = self._call_settings(None, timeout_s)
        items = [(str(answer), "") for answer in answers]
        with self._lock:
            payloads = self._pool.run("canon", self.policy, items, timeout_s)
        return [payload if isinstance(payload, str) else None for payload in payloads]

    def _call_settings(self, policy: str | None, timeout_s: float | None) -> tuple[str, float]:
        from midrl_bench.verify.extract import validate_policy

        return (self.policy if policy is None else validate_policy(policy),
                self.timeout_s if timeout_s is None else validate_timeout(timeout_s))


def _verdict(payload) -> Verdict:
    if isinstance(payload, Failure):  # timed out or the worker crashed: could not judge
        return Verdict(None, payload.reason)
    correct, reason, extracted, route = payload
    return Verdict(correct, reason, extracted, route)


_SHARED: MathChecker | None = None
_SHARED_LOCK = threading.Lock()


def shared_checker() -> MathChecker:
    """A process-wide pool, created on first use and closed at exit; calls pass their own policy and timeout."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = MathChecker()
            atexit.register(_SHARED.close)
        return _SHARED


def check_answers(pairs: Sequence[tuple[str, str]], *, policy: str = DEFAULT_POLICY,
                  timeout_s: float | None = None) -> list[Verdict]:
    """Check (gold, response) pairs in the shared pool under `policy`, each bounded by `timeout_s` (default 5 s)."""
    return shared_checker().check_many(pairs, policy=policy, timeout_s=timeout_s)


def check_answer(gold: str, response: str, *, policy: str = DEFAULT_POLICY, timeout_s: float | None = None) -> Verdict:
    return check_answers([(gold, response)], policy=policy, timeout_s=timeout_s)[0]


def canonical_answers(answers: Sequence[str], *, timeout_s: float | None = None) -> list[str | None]:
    """A canonical string per extracted answer, computed in the shared pool under the hard timeout.

    Equivalent answers usually map to the same string ("1/2", "0.5", "\\\\frac12" -> one sympy srepr; "x = 5" -> "5"),
    so maj@k can group answers by it and confirm group merges with one checker call per distinct answer. None: the
    answer could not be parsed or timed out (group such answers by their text). Not a proof of equivalence: two
    different strings may still be equal.

    >>> a, b, c = canonical_answers(["1/2", "0.5", "\\\\frac12"])
    >>> a == b == c
    True
    """
    return shared_checker().canonical_many(answers, timeout_s=timeout_s)
