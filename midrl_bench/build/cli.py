"""`midrl build CONFIG.yaml --out DIR`: build (or resume) a heuristic-diverse dataset.

Re-running the same command after an interruption (even SIGKILL) resumes at the first unfinished shard and
produces the same bytes as an uninterrupted build. A directory holding a build of another config is refused.
"""

from __future__ import annotations

import argparse
import json
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl build", description=__doc__.splitlines()[0])
    parser.add_argument("config", help="builder config YAML (see configs/ci.yaml)")
    parser.add_argument("--out", required=True, help="output directory: a Hub dataset repo layout plus .midrl/ state")
    parser.add_argument("--counts-json", action="store_true", help="print the per-stage counts as JSON at the end")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from midrl_bench.build.config import load_config
    from midrl_bench.build.runner import build
    from midrl_bench.build.store import StoreError
    from midrl_bench.generation.base import GenerationError

    try:
        config = load_config(args.config)
        counts = build(config, args.out, log=lambda line: print(line, file=sys.stderr))
    except (StoreError, FileNotFoundError, GenerationError, ValueError) as error:
        print(f"midrl build: error: {error}", file=sys.stderr)
        return 2
    if args.counts_json:
        print(json.dumps(counts, indent=2, sort_keys=True))
    else:
        written = counts["write"]
        print(f"wrote {written['configs']} configs, {written['rows']} rows to {args.out}")
    return 0
