"""`midrl verify math IN.jsonl -o OUT.jsonl`: check (gold, pred) pairs with the project's math checker.

Each input line is `{"gold": ..., "pred": ...}` (other keys are kept); each output line is the same object plus
`"verdict": true | false | null`, `"reason"`, `"route"` (how the answer was found: boxed, final_answer_phrase,
last_expression, none) and `"extracted"` (the answer compared). `--extraction strict|standard` picks the policy.
The whole input is validated before any checking starts, and the output is written to a temporary file renamed
into place at the end, so a bad line or an interruption never leaves a half-written OUT. On SIGTERM the checker
workers are killed before exiting; on SIGKILL they die by their parent-death signal.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections import Counter

from midrl_bench.jsonl import read_jsonl, write_jsonl

EXTRACTION_CHOICES = ("strict", "standard")


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


def verify_math_file(in_path: str, out_path: str, workers: int | None, timeout_s: float,
                     policy: str = "standard") -> Counter:
    from tqdm import tqdm

    from midrl_bench.verify.math import MathChecker

    rows = _load_pairs(in_path)
    counts: Counter = Counter()
    chunk = 256
    with MathChecker(workers=workers, timeout_s=timeout_s, policy=policy).start() as checker, \
            tqdm(total=len(rows), unit="pair") as bar:
        for start in range(0, len(rows), chunk):
            batch = rows[start : start + chunk]
            verdicts = checker.check_many([(str(r["gold"]), str(r["pred"])) for r in batch])
            for row, verdict in zip(batch, verdicts, strict=True):
                row.update(verdict=verdict.correct, reason=verdict.reason, route=verdict.route,
                           extracted=verdict.extracted)
                counts[{True: "correct", False: "wrong", None: "unjudged"}[verdict.correct]] += 1
            bar.update(len(batch))
    write_jsonl(out_path, rows)
    return counts


def _on_sigterm(signum, frame) -> None:
    from midrl_bench.verify.math import kill_all_workers

    kill_all_workers()
    sys.exit(128 + signum)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="midrl verify", description="Check answers with the project's checkers.")
    sub = parser.add_subparsers(dest="kind", required=True)
    math_parser = sub.add_parser("math", help="math answers (math-verify, hard per-item timeout)")
    math_parser.add_argument("input", help="JSONL with gold and pred per line")
    math_parser.add_argument("-o", "--output", required=True,
                             help="JSONL to write (input rows + verdict, reason, route, extracted)")
    math_parser.add_argument("--workers", type=int, default=None, help="checker processes (default: CPU count)")
    math_parser.add_argument("--timeout-s", default="5.0", help="hard limit per pair, seconds (finite, > 0)")
    math_parser.add_argument("--extraction", choices=EXTRACTION_CHOICES, default="standard",
                             help="answer extraction policy: strict (boxes and explicit answer lines only) or "
                                  "standard (also 'the answer is X' and the closing sentence's expression)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    from midrl_bench.verify.settings import parse_timeout

    args = _arguments(argv)
    try:
        timeout_s = parse_timeout(args.timeout_s)
    except ValueError as error:
        print(f"midrl verify: --timeout-s: {error}", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print(f"midrl verify: --workers must be >= 1, got {args.workers}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        counts = verify_math_file(args.input, args.output, args.workers, timeout_s, args.extraction)
    except (OSError, ValueError, RuntimeError) as error:  # RuntimeError includes a failed parser self-test
        print(f"midrl verify: {error}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    total = sum(counts.values())
    print(f"{total} pairs ({args.extraction} extraction): {counts['correct']} correct, {counts['wrong']} wrong, "
          f"{counts['unjudged']} unjudged -> {args.output}", file=sys.stderr)
    return 0
