"""`midrl eval ...` (lm-eval with the pack), and `midrl tasks path | list | install | uninstall`.

lm-eval has no plugin discovery; `--include_path` is its supported way to add tasks. `midrl eval` passes every
argument through to lm-eval's own CLI with the pack's directory added to the include path. `midrl tasks install`
copies the pack's task files into the installed lm-eval's task directory so that plain `lm_eval --tasks midrl` works.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from midrl_bench.tasks import include_path

INSTALL_NAME = "midrl"


def main_eval(argv: list[str]) -> int:
    """Run lm-eval's CLI in-process with the pack on the include path (a user --include_path is kept too)."""
    from lm_eval._cli import HarnessCLI
    from lm_eval.utils import setup_logging

    setup_logging()
    cli = HarnessCLI()
    saved_argv = sys.argv
    sys.argv = ["lm_eval", *argv] if argv[:1] in (["run"], ["ls"], ["validate"]) else ["lm_eval", "run", *argv]
    try:
        args = cli.parse_args()
    finally:
        sys.argv = saved_argv
    if hasattr(args, "include_path"):
        extra = [args.include_path] if args.include_path else []
        args.include_path = [include_path(), *extra]
    cli.execute(args)
    return 0


def _lm_eval_tasks_dir() -> Path:
    import lm_eval.tasks

    return Path(lm_eval.tasks.__file__).resolve().parent


MARKER = ".midrl-bench-install.json"


def install() -> Path:
    """Copy the pack's task files into lm-eval's task directory (lm-eval's index does not follow symlinks).

    The copy holds only YAML files and the `hooks.py` shim, which imports the scoring from the installed
    midrl_bench, so it never goes stale in behaviour; re-running `install` refreshes it. A marker file records
    what was installed, and neither command touches a directory without that marker.
    """
    import json
    import shutil

    from midrl_bench import __version__

    target = _lm_eval_tasks_dir() / INSTALL_NAME
    if target.exists() and not (target / MARKER).is_file():
        raise FileExistsError(f"{target} exists and was not created by midrl-bench; refusing to replace it")
    pack = Path(include_path())
    try:
        if target.exists():
            shutil.rmtree(target)
        target.mkdir()
        for path in sorted(pack.iterdir()):
            if path.suffix in (".yaml", ".md") or path.name == "hooks.py":
                shutil.copy2(path, target / path.name)
        (target / MARKER).write_text(json.dumps({"midrl_bench": __version__, "source": str(pack)}, indent=1))
    except OSError as error:
        raise PermissionError(f"cannot write {target}: {error}; use `midrl eval` or --include_path instead") from None
    return target


def uninstall() -> Path | None:
    """Remove what `install` created; None when it was not installed."""
    import shutil

    target = _lm_eval_tasks_dir() / INSTALL_NAME
    if not target.exists():
        return None
    if not (target / MARKER).is_file():
        raise FileExistsError(f"{target} was not created by midrl-bench; leaving it alone")
    shutil.rmtree(target)
    return target


def main_tasks(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="midrl tasks", description="Manage the midrl lm-eval task pack.")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("path", help="print the directory for lm_eval --include_path")
    sub.add_parser("list", help="list the pack's tasks and groups")
    sub.add_parser("install", help="register the pack with the installed lm-eval (plain `lm_eval --tasks midrl`)")
    sub.add_parser("uninstall", help="undo `install`")
    args = parser.parse_args(argv)
    if args.action == "path":
        print(include_path())
    elif args.action == "list":
        for path in sorted(Path(include_path()).glob("midrl*.yaml")):
            print(path.stem)
    elif args.action == "install":
        print(f"installed: {install()} -> {include_path()}")
    else:
        removed = uninstall()
        print(f"removed: {removed}" if removed else "not installed")
    return 0
