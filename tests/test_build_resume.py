"""SIGKILL-and-resume: a build killed at several points and resumed gives the same bytes as an uninterrupted one.

The build runs as `python -m midrl_bench.cli build` in a subprocess; the test watches its state directory and
sends SIGKILL as soon as a chosen file appears (a generate shard, a verify shard, the selection), then resumes
with the same command. Every output file (data, card, manifest, changelog, and the stage shards) is compared by
sha256 with a build that was never interrupted; same config and seed also give the same dataset hash.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _build_fixtures import file_config, write_config

KILL_POINTS = [  # files whose appearance triggers SIGKILL, in build order; each kill is followed by a resume
    ".midrl/generate/shard-00001.jsonl",  # mid-generation
    ".midrl/verify/shard-00001.jsonl",  # mid-verification (checker pool running)
    ".midrl/select/shard-00001.jsonl",  # mid-selection (selection runs shard by shard)
    ".midrl/diversity.json",  # after decontamination and diversity, before writing
]
VOLATILE = {".midrl/state.json"}  # holds the same data but is rewritten as stages finish; compared via its stages


def _command(config: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "midrl_bench.cli", "build", str(config), "--out", str(out)]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def _digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.relative_to(out).as_posix() not in VOLATILE}


def _run_until(config: Path, out: Path, trigger: str, timeout_s: float = 120.0) -> None:
    process = subprocess.Popen(_command(config, out), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout_s
    while not (out / trigger).exists():
        if process.poll() is not None:
            pytest.fail(f"build ended before {trigger} appeared: {process.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{trigger} did not appear within {timeout_s}s")
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists(), f"build finished before the kill at {trigger}; kill point too late"


@pytest.mark.slow
def test_sigkill_and_resume_gives_identical_bytes(tmp_path):
    config = write_config(tmp_path, file_config(tmp_path, shard_size=2))  # 3 shards of one problem each
    reference = tmp_path / "reference"
    subprocess.run(_command(config, reference), env=_env(), check=True, capture_output=True)
    resumed = tmp_path / "resumed"
    for trigger in KILL_POINTS:
        _run_until(config, resumed, trigger)
    finished = subprocess.run(_command(config, resumed), env=_env(), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert "resuming build" in finished.stderr
    want, got = _digests(reference), _digests(resumed)
    assert sorted(got) == sorted(want)
    assert {path for path in want if got[path] != want[path]} == set()
    import json

    assert json.loads((resumed / "manifest.json").read_text())["dataset_sha256"] == \
        json.loads((reference / "manifest.json").read_text())["dataset_sha256"]
    state = lambda out: json.loads((out / ".midrl/state.json").read_text())  # noqa: E731
    assert state(resumed) == state(reference)
