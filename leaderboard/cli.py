"""`midrl leaderboard submit | build | table | serve`.

    midrl leaderboard submit RUN_DIR --store STORE [--allow-partial] [--allow-local]   validate, re-score, add a run
    midrl leaderboard build --store STORE -o SITE [--csv FILE]                         render the static site
    midrl leaderboard table --store STORE [--csv FILE]                                 the results table (pandas)
    midrl leaderboard serve --site SITE [--port 8000]                                  serve it on http://127.0.0.1:PORT/

A rejected submission exits with status 1 and prints `rejected: <reason code>: <where and why>`; a refused output
directory exits with status 2 and one line saying why (nothing is deleted).
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
    submit.add_argument("--allow-local", action="store_true",
                        help="(store operator) accept revision `local`: checkpoints on this machine only, whose "
                             "identity cannot be checked; shown as unverified")
    build = commands.add_parser("build", help="render the static site from the store")
    build.add_argument("--store", type=Path, default=Path("leaderboard-store"))
    build.add_argument("-o", "--out", type=Path, required=True,
                       help="site directory: new, empty, or a site this command built (then replaced)")
    build.add_argument("--csv", type=Path, help="also write the results table as CSV")
    table = commands.add_parser("table", help="print the results table, or write it as CSV")
    table.add_argument("--store", type=Path, default=Path("leaderboard-store"))
    table.add_argument("--csv", type=Path, help="write the table as CSV instead of printing it")
    serve = commands.add_parser("serve", help="serve a built site on localhost")
    serve.add_argument("--site", type=Path, required=True)
    serve.add_argument("--port", type=int, default=8000)
    return parser


def _submit(args) -> int:
    from midrl_bench.leaderboard.rundir import Rejected
    from midrl_bench.leaderboard.store import submit

    try:
        entry = submit(args.run_dir, args.store, allow_partial=args.allow_partial, allow_local=args.allow_local)
    except Rejected as rejection:
        print(f"rejected: {rejection}", file=sys.stderr)
        return 1
    except OSError as error:  # the store itself cannot be written (nothing was added)
        print(f"error: {error.filename or args.store}: {error.strerror or error}", file=sys.stderr)
        return 1
    for task, score in sorted(entry["tasks"].items()):
        value = score["pass_at_k"]["pass@1"]
        print(f"{task}: pass@1 {value['mean']:.4f} ± {value['stderr']:.4f} (standard error over problems; "
              f"{score['n_docs']} docs x {score['repeats']} repeats, recomputed)")
    print(f"accepted: {entry['entry_id']} -> {args.store / 'entries' / entry['entry_id']}")
    return 0


def _build(args) -> int:
    from midrl_bench.leaderboard.site import build_site
    from midrl_bench.leaderboard.table import write_csv

    from midrl_bench.safe_dirs import UnsafeOutputDir

    try:
        index = build_site(args.store, args.out)
    except UnsafeOutputDir as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error.filename or args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"wrote {index}")
    if args.csv:
        print(f"wrote {write_csv(args.store, args.csv)}")
    return 0


def _table(args) -> int:
    from midrl_bench.leaderboard.table import results_frame, write_csv

    if args.csv:
        print(f"wrote {write_csv(args.store, args.csv)}")
        return 0
    frame = results_frame(args.store)
    print(frame.to_string(index=False) if len(frame) else f"no entries in {args.store}")
    return 0


def _serve(args) -> int:
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return {"submit": _submit, "build": _build, "table": _table, "serve": _serve}[args.command](args)
