"""Provenance records attached to every produced artefact: code and library versions, hashes, host."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

TRACKED_LIBRARIES = (
    "midrl-bench", "torch", "transformers", "trl", "datasets", "lm_eval", "math-verify",
    "huggingface-hub", "openrlhf", "vllm", "sentence-transformers", "vendi-score", "accelerate",
)


def library_versions(names: tuple[str, ...] = TRACKED_LIBRARIES) -> dict[str, str | None]:
    """Installed version of each library, None when it is not installed."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def sha256_file(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_commit(repo_dir: str | Path | None = None) -> str | None:
    """The checkout's commit (with '-dirty' when modified), None outside a git checkout."""
    cwd = Path(repo_dir) if repo_dir else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=cwd, capture_output=True, text=True, timeout=10)
        return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def host_info() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
    }


def provenance_record(**extra: Any) -> dict[str, Any]:
    """The common provenance block; callers add config, seeds and data hashes through `extra`."""
    return {
        "code_commit": git_commit(),
        "libraries": library_versions(),
        "host": host_info(),
        **extra,
    }
