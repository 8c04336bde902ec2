"""The worker side of the math checker: judging and canonical forms, in-process and without a timeout.

Run as `python -m midrl_bench.verify.math_worker --parent-pid PID [--skip-self-test]`: it arms a parent-death
signal (so it dies with the process that started it, even on SIGKILL), runs the parser self-test unless the parent
already saw one pass, prints `ready` (or `selftest_failed <reason>`), then answers JSON-lines requests:
`{"op": "check"|"canon", "policy": ..., "items": [[index, a, b], ...]}` -> one `[index, payload]` line per item.
The parent (midrl_bench.verify.math) enforces the hard per-item timeout by killing workers that overrun.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass

from midrl_bench.verify.extract import extract_answer, normalize_answer

WORKER_MEMORY_BYTES = 4 << 30  # a runaway sympy expansion fails with MemoryError instead of swapping the host
MAX_ANSWER_CHARS = 20_000  # longer "answers" are not answers; judged False without parsing
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class Verdict:
    """True / False / None ("could not judge"); `route` says how `extracted` was found (see verify.extract)."""

    correct: bool | None
    reason: str
    extracted: str | None = None
    route: str = "none"

    def to_dict(self) -> dict:
        return asdict(self)


_GOLD_CACHE: dict[str, object] = {}


def _parse_latex(text: str):
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    configs = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    return parse(f"$\\boxed{{{text}}}$", extraction_config=configs, parsing_timeout=None)


def _parsed_gold(gold: str):
    if gold not in _GOLD_CACHE:
        if len(_GOLD_CACHE) > 50_000:
            _GOLD_CACHE.clear()
        _GOLD_CACHE[gold] = _parse_latex(normalize_answer(gold))
    return _GOLD_CACHE[gold]


def judge(gold: str, response: str, policy: str = "standard") -> Verdict:
    """Extract the response's final answer under `policy` and compare it with `gold`; never raises."""
    try:
        found = extract_answer(response, policy)
    except Exception as error:  # extraction is plain scanning and should not fail; if it does, say so, never raise
        return Verdict(None, f"checker_error: {type(error).__name__}")
    answer, route = found.answer, found.route
    if answer is None:
        return Verdict(False, "no_final_answer", None, route)
    if len(answer) > MAX_ANSWER_CHARS:
        return Verdict(False, "answer_too_long", answer[:200], route)
    try:
        gold_parsed = _parsed_gold(str(gold))
        if not gold_parsed:
            return Verdict(None, "gold_unparseable", answer, route)
        answer_parsed = _parse_latex(answer)
        if not answer_parsed:
            return Verdict(False, f"unparseable_answer({route})", answer, route)
        equal = _equivalent(gold_parsed, answer_parsed)
    except MemoryError:
        return Verdict(None, "memory_limit", answer[:200], route)
    except Exception as error:  # math-verify/sympy raise many types on odd input; never let one escape
        return Verdict(None, f"checker_error: {type(error).__name__}", answer[:200], route)
    return Verdict(bool(equal), f"{'equivalent' if equal else 'not_equivalent'}({route})", answer, route)


def _equivalent(gold_parsed, answer_parsed) -> bool:
    """math-verify's verdict; an inequality in one variable also equals the interval it describes (x >= 5, [5, oo))."""
    from math_verify import verify

    if verify(gold_parsed, answer_parsed, timeout_seconds=None):
        return True
    gold_set, answer_set = _as_set(gold_parsed[0]), _as_set(answer_parsed[0])
    if gold_set is None or answer_set is None or (gold_set is gold_parsed[0] and answer_set is answer_parsed[0]):
        return False
    return bool(gold_set == answer_set)


def _as_set(expr):
    """A sympy Set for a set or a one-variable inequality; None for anything else."""
    import sympy

    if isinstance(expr, sympy.Set):
        return expr
    if isinstance(expr, (sympy.StrictGreaterThan, sympy.StrictLessThan, sympy.GreaterThan, sympy.LessThan)):
        if len(expr.free_symbols) == 1:
            try:
                return expr.as_set()
            except (NotImplementedError, TypeError, ValueError):
                return None
    return None


def canonical(answer: str) -> str | None:
    """A canonical string for an extracted answer: equal for "1/2", "0.5", "\\frac12"; None if it cannot be parsed."""
    import sympy

    try:
        parsed = _parse_latex(normalize_answer(str(answer)))
    except Exception:  # any parser failure means "no canonical form", never an error
        return None
    if not parsed:
        return None
    expr = parsed[0]
    if not isinstance(expr, sympy.Basic):
        return "text:" + " ".join(str(expr).split())
    try:
        return "sympy:" + sympy.srepr(_canonical_expr(expr))
    except Exception:  # simplification failed: fall back to the unsimplified tree
        return "sympy:" + sympy.srepr(expr)


def _canonical_expr(expr):
    import sympy

    expr = expr.doit() if hasattr(expr, "doit") else expr
    if isinstance(expr, sympy.Eq) and isinstance(expr.lhs, sympy.Symbol):  # "x = 5" groups with "5"
        expr = expr.rhs
    if isinstance(expr, sympy.Expr):
        if expr.has(sympy.Float):
            expr = sympy.nsimplify(expr, rational=True)
        expr = sympy.simplify(expr)
    return expr


# ---------------------------------------------------------------------------------------------- process
def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies; exit now if the parent is already gone."""
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's atexit/SIGTERM clean-up still applies
        pass
    if os.getppid() != parent_pid:
        os._exit(0)


def _answer(request: dict) -> None:
    op, policy = request["op"], request.get("policy", "standard")
    for index, first, second in request["items"]:
        if op == "check":
            verdict = judge(first, second, policy)
            payload = [verdict.correct, verdict.reason, verdict.extracted, verdict.route]
        else:
            payload = canonical(first)
        sys.stdout.write(json.dumps([index, payload]) + "\n")
        sys.stdout.flush()


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="midrl_bench.verify.math_worker")
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--skip-self-test", action="store_true")
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    import math_verify  # noqa: F401  (imported before the handshake so the first item's clock is fair)

    from midrl_bench.verify.selftest import self_test_failure

    if args.skip_self_test:
        _parse_latex("\\frac{1}{2}")  # load the LaTeX grammar now, so its ~1 s is not charged to the first item
    failure = None if args.skip_self_test else self_test_failure()
    sys.stdout.write("ready\n" if failure is None else f"selftest_failed {failure}\n")
    sys.stdout.flush()
    if failure is not None:
        return
    for line in sys.stdin:
        _answer(json.loads(line))


if __name__ == "__main__":
    main(sys.argv[1:])
