"""Where data and caches live.

`MIDRL_DATA_DIR` points at a local mirror laid out as `../shared/data` (benchmarks/<name>/test.jsonl,
train/<name>/train.jsonl). When it is unset, sources load their Hub dataset at a pinned revision.
`MIDRL_CACHE_DIR` (default `~/.cache/midrl-bench`) holds converted models and other rebuildable artefacts.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "MIDRL_DATA_DIR"
CACHE_DIR_ENV = "MIDRL_CACHE_DIR"


def data_dir() -> Path | None:
    """The local mirror root, or None when sources should use the Hub."""
    value = os.environ.get(DATA_DIR_ENV)
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"{DATA_DIR_ENV}={value!r} is not a directory")
    return path


def mirror_file(relative: str) -> Path:
    """A file inside the local mirror; a clear error naming the file when it is missing."""
    root = data_dir()
    if root is None:
        raise RuntimeError(f"{DATA_DIR_ENV} is not set; cannot read mirror file {relative!r}")
    path = root / relative
    if not path.is_file():
        raise FileNotFoundError(f"mirror file missing: {path} (from {DATA_DIR_ENV})")
    return path


def cache_dir(*parts: str) -> Path:
    """A cache sub-directory, created on demand."""
    root = Path(os.environ.get(CACHE_DIR_ENV, Path.home() / ".cache" / "midrl-bench")).expanduser()
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
