"""`midrl verify math IN.jsonl -o OUT.jsonl`: check (gold, pred) pairs with the project's math checker.

Each input line is `{"gold": ..., "pred": ...}` (other keys are kept); each output line is the same object plus
`"verdict": true | false | null` and `"reason"`. The whole input is validated before any checking starts, and
the output is written to a temporary file renamed into place at the end, so a bad line or an interruption never
leaves a half-written OUT.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from midrl_bench.jsonl import read_jsonl, write_jsonl


def _load_pairs(path: str) -> list[dict]:
    rows = []
    for line_number, row in enumerate(read_jsonl(path), start=1):
        for field in ("gold", "pred"):
            if field not in row:
                raise ValueError(f"{path}: row {line_number} has no {field!r} field")
            if not isinstance(row[field], (str, int, float)):
                raise ValueError(f"{path}: row {line_number} field {field!r} must be a string or number")
        rows.append(row)
    return rows


def verify_math_file(in_path: str, out_path: str, workers: int | None, timeout_s: float) -> Counter:
    from tqdm import tqdm

    from midrl_bench.verify.math import MathChecker

    rows = _load_pairs(in_path)
    counts: Counter = Counter()
    chunk = 256
    with MathChecker(workers=workers, timeout_s=timeout_s) as checker, tqdm(total=len(rows), unit="pair") as bar:
        for start in range(0, len(rows), chunk):
            batch = rows[start : start + chunk]
            verdicts = checker.check_many([(str(r["gold"]), str(r["pred"])) for r in batch])
            for row, verdict in zip(batch, verdicts, strict=True):
                row["verdict"], row["reason"] = verdict.correct, verdict.reason
                counts[{True: "correct", False: "wrong", None: "unjudged"}[verdict.correct]] += 1
            bar.update(len(batch))
    write_jsonl(out_path, rows)
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="midrl verify", description="Check answers with the project's checkers.")
    sub = parser.add_subparsers(dest="kind", required=True)
    math_parser = sub.add_parser("math", help="math answers (math-verify, hard per-item timeout)")
    math_parser.add_argument("input", help="JSONL with gold and pred per line")
    math_parser.add_argument("-o", "--output", required=True, help="JSONL to write (input rows + verdict, reason)")
    math_parser.add_argument("--workers", type=int, default=None, help="checker processes (default: CPU count)")
    math_parser.add_argument("--timeout-s", type=float, default=5.0, help="hard limit per pair, seconds")
    args = parser.parse_args(argv)
    try:
        counts = verify_math_file(args.input, args.output, args.workers, args.timeout_s)
    except (OSError, ValueError) as error:
        print(f"midrl verify: {error}", file=sys.stderr)
        return 2
    total = sum(counts.values())
    print(f"{total} pairs: {counts['correct']} correct, {counts['wrong']} wrong, {counts['unjudged']} unjudged "
          f"-> {args.output}", file=sys.stderr)
    return 0
