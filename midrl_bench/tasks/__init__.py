"""The lm-eval task pack: `lm_eval --include_path "$(midrl tasks path)" --tasks midrl`.

Task YAMLs live in `pack/`; scoring and data in this package (`registry`, `lm_eval_hooks`, `prompts`).
"""

from __future__ import annotations

from pathlib import Path


def include_path() -> str:
    """The directory to pass to lm-eval's `--include_path` (or `TaskManager(include_path=...)`)."""
    return str(Path(__file__).resolve().parent / "pack")
