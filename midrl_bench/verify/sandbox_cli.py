"""`midrl sandbox run PROGRAM.py [--timeout-s S] [--memory-mb M] [--min-isolation LEVEL]` and `midrl sandbox check`.

`run` prints one JSON result (status, reason, isolation, exit_code, duration_s, stdout, stderr_tail,
output_truncated) and exits 0 when the program passed, 1 when it failed or timed out, 2 on a usage error or when the
required isolation level is not available here. `check` prints (JSON) the isolation levels this machine offers, the limits in force on the whole program tree
(cgroup level, memory and process caps), the filesystem view, and what is missing for the strongest form.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from midrl_bench.verify.isolation import LEVELS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl sandbox", description="Run untrusted Python programs isolated.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one program and print its JSON result")
    run.add_argument("program", help="path of the Python program to run")
    run.add_argument("--timeout-s", type=float, default=10.0, help="wall-clock limit, seconds (default 10)")
    run.add_argument("--memory-mb", type=int, default=1024, help="address-space limit, MiB (default 1024)")
    run.add_argument("--min-isolation", choices=LEVELS, default="process",
                     help="refuse to run below this level (default: process)")
    run.add_argument("--isolation", choices=LEVELS, default=None,
                     help="run at exactly this level (default: the strongest available)")
    sub.add_parser("check", help="print the isolation levels available on this machine")
    return parser


def _check_report() -> dict:
    """Levels available here, and the limits in force on the whole program tree (with what is missing)."""
    from midrl_bench.verify import cgroups
    from midrl_bench.verify.code import SECCOMP_ARCHES, SandboxLimits
    from midrl_bench.verify.isolation import available_levels

    report, tree = available_levels().to_dict(), cgroups.support()
    limits = SandboxLimits()
    namespaces = "namespaces" in report["available"]
    report["tree_limits"] = {
        **tree.to_dict(),
        "in_force": {"memory_mb_whole_tree": limits.memory_mb, "processes_whole_tree": limits.processes}
        if tree.version else {},
        "per_process_rlimits": limits.rlimits(report["strongest"])}
    report["nested_user_namespaces"] = ("refused (seccomp)" if os.uname().machine in SECCOMP_ARCHES
                                        else f"not refused: no seccomp filter for {os.uname().machine}")
    report["filesystem_view"] = ("interpreter, standard library, shared libraries, working directory"
                                 if namespaces else "the host's whole filesystem (below level namespaces)")
    report["missing"] = [*tree.missing, *report["unavailable"].values()]
    return report


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from midrl_bench.verify.isolation import IsolationUnavailable

    if args.command == "check":
        print(json.dumps(_check_report(), indent=2))
        return 0
    from midrl_bench.verify.code import Sandbox, SandboxLimits

    path = Path(args.program)
    try:
        source = path.read_text(encoding="utf-8")
        limits = SandboxLimits(timeout_s=args.timeout_s, memory_mb=args.memory_mb)
        sandbox = Sandbox(limits, isolation=args.isolation, min_isolation=args.min_isolation, workers=1)
    except (OSError, UnicodeDecodeError) as error:
        print(f"midrl sandbox: cannot read program {path}: {error}", file=sys.stderr)
        return 2
    except (ValueError, IsolationUnavailable) as error:
        print(f"midrl sandbox: {error}", file=sys.stderr)
        return 2
    result = sandbox.run(source)
    print(json.dumps(result.to_dict(), ensure_ascii=False))
    return 0 if result.status == "passed" else 1
