"""`midrl build CONFIG.yaml --out DIR [--shard i/N]` and `midrl build merge PART... --out DIR`.

Re-running the same command after an interruption (even SIGKILL) resumes at the first unfinished shard and
produces the same bytes as an uninterrupted build. A directory holding a build of another config is refused.

To split a build over machines, run `midrl build CONFIG --shard i/N --out PART_i` for i = 0..N-1 (each part is a
contiguous range of problems; parts share nothing and can run anywhere), then
`midrl build merge PART_0 ... PART_{N-1} --out DIR`: the result is byte-identical to the unsharded build.
"""

from __future__ import annotations

import argparse
import json
import sys


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl build", description=__doc__.splitlines()[0])
    parser.add_argument("config", help="builder config YAML (see configs/ci.yaml)")
    parser.add_argument("--out", required=True, help="output directory: a Hub dataset repo layout plus .midrl/ state")
    parser.add_argument("--shard", default=None, metavar="i/N",
                        help="build only part i of N (zero-based, contiguous problem ranges); merge parts with "
                             "`midrl build merge`")
    parser.add_argument("--counts-json", action="store_true", help="print the per-stage counts as JSON at the end")
    return parser


def _merge_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl build merge",
                                     description="merge finished `--shard i/N` parts and finish the build")
    parser.add_argument("parts", nargs="+", help="the part directories, one per i = 0..N-1 (any order)")
    parser.add_argument("--out", required=True, help="output directory of the merged build (empty or a merge to resume)")
    parser.add_argument("--counts-json", action="store_true", help="print the per-stage counts as JSON at the end")
    return parser


def _report(counts: dict, args: argparse.Namespace) -> None:
    if args.counts_json:
        print(json.dumps(counts, indent=2, sort_keys=True))
    elif counts.get("write"):
        written = counts["write"]
        print(f"wrote {written['configs']} configs, {written['rows']} rows to {args.out}")
    else:
        print(f"part finished in {args.out}; merge all parts with `midrl build merge PART... --out DIR`")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    merging = bool(argv) and argv[0] == "merge"
    args = (_merge_parser() if merging else _build_parser()).parse_args(argv[1:] if merging else argv)
    from midrl_bench.builder.config import load_config
    from midrl_bench.builder.plan import parse_part
    from midrl_bench.builder.runner import build, merge
    from midrl_bench.builder.store import StoreError
    from midrl_bench.generation.base import GenerationError

    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    try:
        if merging:
            counts = merge(args.parts, args.out, log=log)
        else:
            part = parse_part(args.shard) if args.shard else None
            counts = build(load_config(args.config), args.out, log=log, part=part)
    except (StoreError, FileNotFoundError, GenerationError, ValueError) as error:
        print(f"midrl build: error: {error}", file=sys.stderr)
        return 2
    _report(counts, args)
    return 0
