"""`midrl leaderboard submit | build | serve`.

    midrl leaderboard submit RUN_DIR --store STORE [--allow-partial]   validate, re-score and add a run
    midrl leaderboard build --store STORE -o SITE                      render the static site
    midrl leaderboard serve --site SITE [--port 8000]                  serve it on http://127.0.0.1:PORT/

A rejected submission exits with status 1 and prints `rejected: <reason code>: <where and why>`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl leaderboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help="validate a run directory and add it to the store")
    submit.add_argument("run_dir", type=Path)
    submit.add_argument("--store", type=Path, default=Path("leaderboard-store"), help="store directory (created)")
    submit.add_argument("--allow-partial", action="store_true",
                        help="accept runs on a subset of a task's documents (lm-eval --limit); shown as partial")
    build = commands.add_parser("build", help="render the static site from the store")
    build.add_argument("--store", type=Path, default=Path("leaderboard-store"))
    build.add_argument("-o", "--out", type=Path, required=True, help="site directory (replaced)")
    serve = commands.add_parser("serve", help="serve a built site on localhost")
    serve.add_argument("--site", type=Path, required=True)
    serve.add_argument("--port", type=int, default=8000)
    return parser


def _submit(args) -> int:
    from midrl_bench.leaderboard.rundir import Rejected
    from midrl_bench.leaderboard.store import submit

    try:
        entry = submit(args.run_dir, args.store, allow_partial=args.allow_partial)
    except Rejected as rejection:
        print(f"rejected: {rejection}", file=sys.stderr)
        return 1
    for task, score in sorted(entry["tasks"].items()):
        value = score["pass_at_k"]["pass@1"]
        print(f"{task}: pass@1 {value['mean']:.4f} ± {value['stderr']:.4f} "
              f"({score['n_docs']} docs x {score['repeats']} repeats, recomputed)")
    print(f"accepted: {entry['entry_id']} -> {args.store / 'entries' / entry['entry_id']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "submit":
        return _submit(args)
    if args.command == "build":
        from midrl_bench.leaderboard.site import build_site

        print(f"wrote {build_site(args.store, args.out)}")
        return 0
    from midrl_bench.leaderboard.serve import make_server

    server = make_server(args.site, args.port)
    print(f"serving {args.site} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
