"""`midrl diversity DIR [--recompute] [--embedder NAME] [--ngram-n N] [--json]`: Vendi scores of a built dataset.

By default prints the per-config table stored in `DIR/manifest.json` at build time. `--recompute` reads the
parquet files of every config listed in the card instead (works on any copy of a published dataset) and scores
them with the given embedder (`minilm` offline, any sentence-transformers model name, or `ngram` for no model).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl diversity", description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="a `midrl build` output directory (or a downloaded copy of the dataset repo)")
    parser.add_argument("--recompute", action="store_true", help="score the parquet files instead of the manifest")
    parser.add_argument("--embedder", default="minilm", help="with --recompute: minilm | ngram | a model name")
    parser.add_argument("--ngram-n", type=int, default=3, help="with --recompute: n of the n-gram kernel")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def recompute(out_dir: Path, embedder: str, ngram_n: int) -> dict:
    """Diversity report from the parquet files under `data/<config>/`."""
    import pyarrow.parquet as pq

    from midrl_bench.builder.diversity_report import diversity_report

    configs = {}
    for folder in sorted(p for p in (out_dir / "data").iterdir() if p.is_dir()):
        rows = []
        for path in sorted(folder.glob("*.parquet")):
            table = pq.read_table(path, columns=["problem_id", "completion"]).to_pydict()
            rows.extend(zip(table["problem_id"], table["completion"], strict=True))
        configs[folder.name] = rows
    return diversity_report(configs, embedder, ngram_n)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from midrl_bench.builder.diversity_report import format_table

    out_dir = Path(args.dir)
    if args.recompute:
        if not (out_dir / "data").is_dir():
            print(f"midrl diversity: error: {out_dir / 'data'} not found", file=sys.stderr)
            return 2
        report = recompute(out_dir, args.embedder, args.ngram_n)
    else:
        manifest = out_dir / "manifest.json"
        if not manifest.is_file():
            print(f"midrl diversity: error: {manifest} not found (use --recompute on a bare copy)", file=sys.stderr)
            return 2
        report = json.loads(manifest.read_text(encoding="utf-8"))["diversity"]
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0
