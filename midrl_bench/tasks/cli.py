"""`midrl eval ...` (lm-eval with the pack), and `midrl tasks path | list | install | uninstall`.

lm-eval has no plugin discovery; `--include_path` is its supported way to add tasks. `midrl eval` passes every
argument through to lm-eval's own CLI with the pack's directory added to the include path (plus `--extraction
strict|standard`, the pack's math answer extraction, passed on as lm-eval `--metadata`). `midrl tasks install`
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
    argv = _extraction_to_metadata(argv)
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


def _extraction_to_metadata(argv: list[str]) -> list[str]:
    """`--extraction strict|standard` (the pack's math answer extraction) becomes lm-eval `--metadata`."""
    import json

    if "--extraction" not in argv:
        return argv
    at = argv.index("--extraction")
    if at + 1 >= len(argv) or argv[at + 1] not in ("strict", "standard"):
        raise SystemExit("midrl eval: --extraction takes strict or standard")
    policy, rest = argv[at + 1], argv[:at] + argv[at + 2 :]
    if "--metadata" in rest:
        where = rest.index("--metadata") + 1
        try:
            metadata = json.loads(rest[where]) if where < len(rest) else {}
        except json.JSONDecodeError:
            raise SystemExit("midrl eval: with --extraction, --metadata must be a JSON object string") from None
        if not isinstance(metadata, dict):
            raise SystemExit("midrl eval: with --extraction, --metadata must be a JSON object string")
        rest[where] = json.dumps({**metadata, "extraction": policy})
        return rest
    return [*rest, "--metadata", json.dumps({"extraction": policy})]


def _lm_eval_tasks_dir() -> Path:
    import lm_eval.tasks

    return Path(lm_eval.tasks.__file__).resolve().parent


MARKER = ".midrl-bench-install.json"


def install() -> Path:
    """Copy the pack's task files into lm-eval's task directory (lm-eval's index does not follow symlinks).

    The copy holds only the YAML, card and reference files (task folders included) and the `hooks.py` shim, which imports the scoring from the installed
    midrl_bench, so it never goes stale in behaviour; re-running `install` refreshes it. A marker file records
    what was installed, and neither command touches a directory without that marker.
    """
    import json
    import shutil

    from midrl_bench import __version__
    from midrl_bench.safe_dirs import remove_owned_dir

    target = _lm_eval_tasks_dir() / INSTALL_NAME
    if target.exists() and not (target / MARKER).is_file():
        raise FileExistsError(f"{target} exists and was not created by midrl-bench; refusing to replace it")
    pack = Path(include_path())
    try:
        if target.exists():
            remove_owned_dir(target, marker=MARKER)  # the one rule: only a folder carrying our marker
        target.mkdir()
        for path in sorted(pack.rglob("*")):
            if path.is_file() and (path.suffix in (".yaml", ".md", ".json") or path.name == "hooks.py"):
                (target / path.relative_to(pack)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.relative_to(pack))
        (target / MARKER).write_text(json.dumps({"midrl_bench": __version__, "source": str(pack)}, indent=1))
    except OSError as error:
        raise PermissionError(f"cannot write {target}: {error}; use `midrl eval` or --include_path instead") from None
    return target


def uninstall() -> Path | None:
    """Remove what `install` created; None when it was not installed."""
    from midrl_bench.safe_dirs import remove_owned_dir

    target = _lm_eval_tasks_dir() / INSTALL_NAME
    if not target.exists():
        return None
    if not (target / MARKER).is_file():
        raise FileExistsError(f"{target} was not created by midrl-bench; leaving it alone")
    remove_owned_dir(target, marker=MARKER)
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
        for path in sorted(Path(include_path()).rglob("midrl*.yaml"), key=lambda p: p.stem):
            print(path.stem)
    elif args.action == "install":
        print(f"installed: {install()} -> {include_path()}")
    else:
        removed = uninstall()
        print(f"removed: {removed}" if removed else "not installed")
    return 0
