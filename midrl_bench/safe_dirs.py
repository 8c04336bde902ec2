"""The one rule for commands that replace a directory: never delete what this project did not create.

A command that writes a whole directory (e.g. `midrl leaderboard build -o SITE`) owns it through a marker file it
writes inside (`<marker>`, JSON naming the command). Before replacing a directory the command calls
`check_replaceable`, which refuses, with a one-line `UnsafeOutputDir` naming the path and the reason, when the
directory

- is one of the `protected` paths (e.g. the leaderboard store), lies inside one, or contains one;
- exists and is not a directory, or is a link;
- is non-empty and holds no marker of this kind (someone else's folder, or a file the command did not write).

`replace_dir` then builds the new content in a fresh sibling folder and swaps it in, so a crash halfway leaves the old
directory as it was, and `remove_owned_dir` removes a directory only when it carries the marker.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


class UnsafeOutputDir(ValueError):
    """Replacing this directory could delete what the command did not create; the message says which and why."""


def _marker_kind(path: Path, marker: str) -> str | None:
    """The `kind` recorded in `path/marker`, or None when there is no readable marker."""
    file = path / marker
    if not file.is_file() or file.is_symlink():
        return None
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record.get("kind") if isinstance(record, dict) else None


def _related(a: Path, b: Path) -> str | None:
    """How `a` relates to `b` ("is", "is inside", "contains") or None; both already resolved."""
    if a == b:
        return "is"
    if a.is_relative_to(b):
        return "is inside"
    if b.is_relative_to(a):
        return "contains"
    return None


def check_replaceable(path: str | Path, *, marker: str, kind: str, protected: Iterable[str | Path] = ()) -> Path:
    """Refuse (UnsafeOutputDir) unless `path` may be replaced by a command of `kind`; returns the resolved path."""
    path = Path(path)
    if path.is_symlink():
        raise UnsafeOutputDir(f"{path} is a link; give the real directory")
    resolved = path.resolve()
    for other in protected:
        relation = _related(resolved, Path(other).resolve())
        if relation:
            raise UnsafeOutputDir(f"{path} {relation} {other}; choose an output directory outside it")
    if not path.exists():
        return resolved
    if not path.is_dir():
        raise UnsafeOutputDir(f"{path} exists and is not a directory; refusing to replace it")
    if any(path.iterdir()) and _marker_kind(path, marker) != kind:
        raise UnsafeOutputDir(f"{path} is not empty and was not written by {kind} (no {marker} marker); "
                              "choose an empty or new directory")
    return resolved


def write_marker(path: Path, *, marker: str, kind: str) -> None:
    (path / marker).write_text(json.dumps({"kind": kind, "note": "written by midrl-bench; the folder may be "
                                           "replaced by the same command"}) + "\n", encoding="utf-8")


def replace_dir(path: str | Path, fill: Callable[[Path], object], *, marker: str, kind: str,
                protected: Iterable[str | Path] = ()) -> Path:
    """Check `path`, let `fill(tmp)` write the new content into a fresh sibling, then swap it into place.

    The old directory (when replaceable) is removed only after the new one is complete; on any error the new one is
    removed and the old one is left untouched.
    """
    path = Path(path)
    check_replaceable(path, marker=marker, kind=kind, protected=protected)
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-", dir=path.parent))
    try:
        os.chmod(fresh, 0o755)  # mkdtemp makes it private; a site or export is meant to be read
        fill(fresh)
        write_marker(fresh, marker=marker, kind=kind)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            os.rename(path, old / path.name)
            os.rename(fresh, path)
            shutil.rmtree(old)
        else:
            os.rename(fresh, path)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return path


def remove_owned_dir(path: str | Path, *, marker: str) -> bool:
    """Remove `path` only when it holds `marker` (any kind) or is empty; True when removed, False when absent."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return False
    if path.is_symlink() or not path.is_dir():
        raise UnsafeOutputDir(f"{path} is not a directory this project made; leaving it alone")
    if any(path.iterdir()) and not (path / marker).is_file():
        raise UnsafeOutputDir(f"{path} holds no {marker} marker; it was not created by midrl-bench, leaving it alone")
    shutil.rmtree(path)
    return True
