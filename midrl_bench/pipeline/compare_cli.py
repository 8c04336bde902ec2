"""`midrl compare`: the same recipe on several backends, every checkpoint evaluated with the pack.

    midrl compare --spec recipes/tiny-cpu.yaml --backends trl --out runs/tiny-compare
    midrl compare --spec recipes/paper-llama-3.2-3b.yaml --backends trl,openrlhf
    midrl compare --spec recipes/paper-llama-3.2-3b.yaml --backends trl,openrlhf,verl --dry-run
Writes compare.md, compare.json and passk.png in the output directory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from midrl_bench.config import ConfigError

KNOWN_BACKENDS = ("trl", "openrlhf", "verl")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True, help="recipe YAML (see recipes/)")
    parser.add_argument("--backends", default="trl,openrlhf", help="comma-separated: trl,openrlhf,verl")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the GRPO mapping table (every setting as each backend receives it); run nothing")
    parser.add_argument("--out", default=None, help="output directory (default runs/<recipe name>-compare)")
    return parser


def parse_backends(text: str) -> list[str]:
    backends = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in backends if name not in KNOWN_BACKENDS]
    if not backends or unknown or len(set(backends)) != len(backends):
        raise ConfigError(f"--backends: expected distinct names from {list(KNOWN_BACKENDS)}, got {text!r}")
    return backends


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from midrl_bench.pipeline.compare import run_compare
    from midrl_bench.pipeline.spec import load_spec

    try:
        backends = parse_backends(args.backends)
        spec = load_spec(args.spec)
        if args.dry_run:
            from midrl_bench.pipeline.grpo_mapping import dry_run_text

            print(dry_run_text(spec, backends))
            from midrl_bench.pipeline.compare import dry_run_plan

            print(dry_run_plan(spec, backends))  # training precision and the evaluation commands
            return 0
        out = args.out or f"runs/{spec.name}-compare"
        run_compare(spec, backends, out)
    except ConfigError as error:
        print(f"midrl compare: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # a stage failed; finished stages stay in the run directory
        print(f"midrl compare: failed: {error}", file=sys.stderr)
        return 1
    print((Path(out) / "compare.md").read_text(encoding="utf-8"))
    return 0
