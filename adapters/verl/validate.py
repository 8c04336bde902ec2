"""Run `check.py` in the verl environment from the main one (tests, and users checking a plan before a GPU run).

verl's config stack needs antlr4-python3-runtime 4.9 while the checker needs 4.13.2, so verl lives in its own
environment (docs/backends.md); this module hands it a job file and reads back the JSON report.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

_SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the repository, for an editable install (adapters/verl/)
REPO = _SOURCE_ROOT if (_SOURCE_ROOT / "pyproject.toml").is_file() else Path.cwd()
PYTHON_ENV = "MIDRL_VERL_PYTHON"  # the verl environment's interpreter
CHECKER_SITE_ENV = "MIDRL_VERL_CHECKER_SITE"  # its side directory with antlr4-python3-runtime 4.13.2
TIMEOUT_S = 300


def verl_python() -> Path:
    """The verl environment's python: $MIDRL_VERL_PYTHON, else the repo's `.verl-venv` (made by .ci/run)."""
    return Path(os.environ.get(PYTHON_ENV) or REPO / ".verl-venv" / "bin" / "python")


def checker_site() -> Path:
    return Path(os.environ.get(CHECKER_SITE_ENV) or REPO / ".verl-venv" / "checker-site")


def run_verl_check(job: dict[str, Any], *, with_checker_site: bool = True, python: Path | None = None
                   ) -> dict[str, Any]:
    """Run the job through verl in its environment; returns the report (an `error` key when verl rejected it)."""
    from midrl_bench.rewards.shims import CHECKER_PATH_ENV

    python = python or verl_python()
    env = {key: value for key, value in os.environ.items() if key not in (CHECKER_PATH_ENV, "PYTHONPATH")}
    env.update(OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1", VERL_USE_EXTERNAL_PLUGINS="none")
    if with_checker_site:
        env[CHECKER_PATH_ENV] = str(checker_site())
    with tempfile.TemporaryDirectory(prefix="midrl-verl-check-") as tmp:
        job_file = Path(tmp) / "job.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        done = subprocess.run([str(python), "-m", "midrl_bench.adapters.verl.check", str(job_file)], env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"verl check produced no report (exit {done.returncode}): {done.stderr[-2000:]}")
    return json.loads(lines[-1])
