"""`midrl runs compare RUN_A RUN_B | regrade RUN_DIR [-o OUT] | summary RUN`: lm-eval run directories of the pack.

Every bad input (a missing run, differing task versions or documents, a results file without samples) ends with
a one-line error naming the file, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from midrl_bench import stats


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl runs", description="Compare, re-grade and summarise lm-eval runs.")
    sub = parser.add_subparsers(dest="action", required=True)
    compare = sub.add_parser("compare", help="paired differences per shared task and metric, with 95% intervals")
    compare.add_argument("run_a", type=Path)
    compare.add_argument("run_b", type=Path)
    compare.add_argument("--json", type=Path, help="write the comparison as JSON here")
    compare.add_argument("--csv", type=Path, help="write the table here (.csv, or .parquet)")
    compare.add_argument("--plot", type=Path, help="draw pass@k curves of both runs with intervals (PNG/SVG/PDF)")
    compare.add_argument("--bootstrap", type=int, default=stats.DEFAULT_BOOTSTRAP, help="bootstrap resamples")
    compare.add_argument("--permutations", type=int, default=stats.DEFAULT_PERMUTATIONS)
    compare.add_argument("--seed", type=int, default=stats.DEFAULT_SEED)
    regrade = sub.add_parser("regrade", help="re-score stored samples with the current checker (never overwrites)")
    regrade.add_argument("run_dir", type=Path)
    regrade.add_argument("-o", "--out", type=Path, help="folder for the new files (default: beside the old ones)")
    regrade.add_argument("--extraction", choices=("standard", "strict"), default="standard")
    regrade.add_argument("--timeout-s", type=float, default=None, help="the checker's hard per-answer timeout")
    regrade.add_argument("--bootstrap", type=int, default=stats.DEFAULT_BOOTSTRAP)
    regrade.add_argument("--seed", type=int, default=stats.DEFAULT_SEED)
    summary = sub.add_parser("summary", help="one row per task of a run")
    summary.add_argument("run", type=Path)
    summary.add_argument("--csv", type=Path, help="write the table here (.csv, or .parquet)")
    return parser


def _compare(args) -> None:
    from midrl_bench.runs.compare import TEST_NAMES, CompareSettings, compare_runs, format_table, plot_curves
    from midrl_bench.runs.frames import write_frame
    from midrl_bench.runs.load import load_run

    settings = CompareSettings(args.bootstrap, args.permutations, args.seed)
    run_a, run_b = load_run(args.run_a), load_run(args.run_b)
    frame = compare_runs(run_a, run_b, settings)
    print(format_table(frame))
    if args.json:
        payload = {"run_a": str(args.run_a), "run_b": str(args.run_b), "tests": TEST_NAMES,
                   "settings": settings.__dict__, "rows": frame.to_dict(orient="records")}
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    if args.csv:
        print(f"wrote {write_frame(frame, args.csv)}")
    if args.plot:
        plot_curves(run_a, run_b, args.plot, settings, (str(args.run_a), str(args.run_b)))
        print(f"wrote {args.plot}")


def _regrade(args) -> None:
    from midrl_bench.runs.regrade import regrade_run

    target, record = regrade_run(args.run_dir, args.out, policy=args.extraction, timeout_s=args.timeout_s,
                                 bootstrap_iters=args.bootstrap, seed=args.seed)
    for task, info in record["tasks"].items():
        exact = "" if info["changed_verdicts_exact"] else " (at least; the old samples logged no verdicts)"
        print(f"{task}: {info['changed_verdicts']} of {info['responses']} verdicts changed{exact}")
    print(f"wrote {target} (the old results file is untouched: {record['source']})")


def _summary(args) -> None:
    import pandas as pd

    from midrl_bench.runs.frames import summary_frame, write_frame
    from midrl_bench.runs.load import load_run

    frame = summary_frame(load_run(args.run))
    with pd.option_context("display.max_columns", 12, "display.width", 160):
        print(frame.drop(columns=["results_file"]).to_string(index=False))
    print("values are means over documents; `lo`/`hi`: 95% bootstrap interval over documents")
    if args.csv:
        print(f"wrote {write_frame(frame, args.csv)}")


def main(argv: list[str]) -> int:
    from midrl_bench.runs.load import RunError

    args = _parser().parse_args(argv)
    try:
        {"compare": _compare, "regrade": _regrade, "summary": _summary}[args.action](args)
    except (RunError, OSError) as error:
        print(f"midrl runs {args.action}: {error}", file=sys.stderr)
        return 2
    return 0
