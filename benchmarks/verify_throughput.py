"""Throughput of the project's math checker vs plain sequential math-verify on the same 2,000 pairs.

Pairs are drawn from the MATH-500 answers (MIDRL_DATA_DIR mirror or the Hub): half are the gold answer boxed
(correct), half a perturbed answer (wrong). Baseline: parse gold, parse response, verify, one pair after another
in one process, as a plain math-verify user would. Prints pairs/s of both and the ratio (goal >= 1.8x on 2 cores).

    python benchmarks/verify_throughput.py [--pairs 2000] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import random
import time


def make_pairs(count: int, seed: int = 0) -> list[tuple[str, str]]:
    from midrl_bench.sources.math500 import SOURCE

    answers = [row["answer"] for row in SOURCE.load_rows()]
    rng = random.Random(seed)
    pairs = []
    for index in range(count):
        gold = answers[index % len(answers)]
        shown = gold if index % 2 == 0 else perturb(gold, rng)
        pairs.append((gold, f"Working... so the final answer is $\\boxed{{{shown}}}$."))
    return pairs


def perturb(answer: str, rng: random.Random) -> str:
    digits = [i for i, ch in enumerate(answer) if ch.isdigit()]
    if digits:
        i = rng.choice(digits)
        return answer[:i] + str((int(answer[i]) + rng.randint(1, 9)) % 10) + answer[i + 1 :]
    return answer + "+1"


def sequential_math_verify(pairs: list[tuple[str, str]]) -> list[bool]:
    from math_verify import parse, verify

    return [bool(verify(parse(f"${gold}$"), parse(response))) for gold, response in pairs]


def project_checker(pairs: list[tuple[str, str]], workers: int) -> list[bool | None]:
    from midrl_bench.verify.math import MathChecker

    with MathChecker(workers=workers) as checker:
        return [v.correct for v in checker.check_many(pairs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    pairs = make_pairs(args.pairs)
    sequential_math_verify(pairs[:20])  # warm imports for a fair baseline
    started = time.perf_counter()
    baseline = sequential_math_verify(pairs)
    baseline_s = time.perf_counter() - started
    started = time.perf_counter()
    ours = project_checker(pairs, args.workers)
    ours_s = time.perf_counter() - started
    agree = sum(a == b for a, b in zip(baseline, ours, strict=True)) / len(pairs)
    from midrl_bench.verify.math import checker_settings

    print(f"pairs: {len(pairs)}, workers: {args.workers}; checker settings: {checker_settings()}")
    print(f"baseline (sequential math-verify): {len(pairs) / baseline_s:8.1f} pairs/s  ({baseline_s:.1f} s)")
    print(f"midrl verify math (process pool):  {len(pairs) / ours_s:8.1f} pairs/s  ({ours_s:.1f} s)")
    print(f"verdict agreement with baseline: {agree:.1%}; correct share: {sum(v is True for v in ours) / len(ours):.1%}")
    print(f"ratio: {baseline_s / ours_s:.2f}x (goal >= 1.8x on 2 cores)")


if __name__ == "__main__":
    main()
