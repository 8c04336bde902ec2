"""`midrl publish DIR --repo-id ORG/NAME --version X.Y.Z [--private] [--dry-run]`: upload a built dataset and tag it.

The token comes from `--token`, `HF_TOKEN` or `hf auth login` (huggingface_hub's usual lookup).
"""

from __future__ import annotations

import argparse
import json
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl publish", description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="a finished `midrl build` output directory")
    parser.add_argument("--repo-id", required=True, help="Hub dataset repo, ORG/NAME")
    parser.add_argument("--version", required=True, help="X.Y.Z; must equal the manifest's version; tagged vX.Y.Z")
    parser.add_argument("--private", action="store_true", help="create the repo private (when it does not exist)")
    parser.add_argument("--dry-run", action="store_true", help="print the exact operations and upload nothing")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN / stored login)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from midrl_bench.publish.hub import PublishError, describe_plan, plan_publish, publish

    try:
        plan = plan_publish(args.dir, args.repo_id, args.version, private=args.private)
        if args.dry_run:
            print("\n".join(describe_plan(plan)))
            return 0
        result = publish(plan, token=args.token)
    except PublishError as error:
        print(f"midrl publish: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0
