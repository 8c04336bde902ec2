"""`midrl heuristics list [--json] | show ID [--json] | validate [DIR]`.

`--dir DIR` (before the sub-command or after it) points `list` and `show` at another library directory, e.g. the toy
world's strategies. `validate` checks every file and prints one line per malformed file (file and field); exit code 1
when any file is malformed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from midrl_bench.heuristics.library import LIBRARY_DIR, Heuristic, HeuristicError, load_library, validate_directory


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl heuristics", description="The heuristic library.")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="one line per heuristic: id, family, name")
    listing.add_argument("--json", action="store_true", help="print the full library as JSON (with its content hash)")
    listing.add_argument("--dir", type=Path, default=None, help=f"library directory (default: {LIBRARY_DIR})")
    show = sub.add_parser("show", help="one heuristic in full: instruction, cues, exemplars")
    show.add_argument("id")
    show.add_argument("--json", action="store_true", help="print it as JSON")
    show.add_argument("--dir", type=Path, default=None, help="library directory")
    validate = sub.add_parser("validate", help="check every file; exit 1 naming each malformed file and field")
    validate.add_argument("directory", nargs="?", type=Path, default=None, help=f"default: {LIBRARY_DIR}")
    return parser


def _print_list(directory: Path | None, as_json: bool) -> int:
    library = load_library(directory)
    if as_json:
        payload = {
            "directory": str(library.directory),
            "content_hash": library.content_hash,
            "heuristics": [heuristic.to_dict() for heuristic in library],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    width = max(len(heuristic.id) for heuristic in library)
    for heuristic in library:
        print(f"{heuristic.id.ljust(width)}  {heuristic.family:<8}  {heuristic.name}")
    print(f"{len(library)} heuristics, content hash {library.content_hash[:16]}")
    return 0


def _format_heuristic(heuristic: Heuristic) -> str:
    lines = [
        f"{heuristic.name}  [{heuristic.id}, family {heuristic.family}]",
        f"source: {heuristic.source}",
        "",
        "instruction:",
        f"  {heuristic.instruction}",
        "",
        "cues: " + "; ".join(heuristic.cues),
    ]
    for index, exemplar in enumerate(heuristic.exemplars, start=1):
        lines += ["", f"exemplar {index}:", f"  problem: {exemplar.problem}", "  solution:"]
        lines += [f"    {line}" for line in exemplar.solution.splitlines()]
        lines.append(f"  answer: {exemplar.answer}")
    return "\n".join(lines)


def _show(heuristic_id: str, directory: Path | None, as_json: bool) -> int:
    library = load_library(directory)
    if heuristic_id not in library:
        print(f"midrl heuristics: unknown heuristic {heuristic_id!r}; see `midrl heuristics list`", file=sys.stderr)
        return 2
    heuristic = library.get(heuristic_id)
    print(json.dumps(heuristic.to_dict(), indent=2, ensure_ascii=False) if as_json else _format_heuristic(heuristic))
    return 0


def _validate(directory: Path | None) -> int:
    valid, errors = validate_directory(directory)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    ids = [heuristic.id for heuristic in valid]
    print(f"{len(valid)} valid, {len(errors)} malformed heuristic file(s) in {directory or LIBRARY_DIR}")
    families: dict[str, int] = {}
    for heuristic in valid:
        families[heuristic.family] = families.get(heuristic.family, 0) + 1
    if families:
        print("families: " + ", ".join(f"{name} {count}" for name, count in sorted(families.items())))
    return 1 if errors or not ids else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _print_list(args.dir, args.json)
        if args.command == "show":
            return _show(args.id, args.dir, args.json)
        return _validate(args.directory)
    except HeuristicError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
