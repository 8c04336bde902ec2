import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def run_verify(tmp_path, lines, *extra):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    target = tmp_path / "out.jsonl"
    completed = subprocess.run(
        [sys.executable, "-m", "midrl_bench", "verify", "math", str(source), "-o", str(target), "--timeout-s", "3",
         *extra],
        capture_output=True, text=True, timeout=120,
    )
    return completed, target


def test_verify_math_cli_adds_verdict_and_keeps_keys(tmp_path):
    completed, target = run_verify(tmp_path, [
        {"gold": "\\frac{1}{2}", "pred": "\\boxed{0.5}", "id": "a"},  # right
        {"gold": 3, "pred": "#### 4", "id": "b"},  # wrong
        {"gold": "7", "pred": "\\boxed{10^{10^{10^{10}}}}", "id": "c"},  # cannot be judged in time
    ])
    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(r["id"], r["verdict"]) for r in rows] == [("a", True), ("b", False), ("c", None)]
    assert rows[2]["reason"].startswith("timeout")
    assert [(r["route"], r["extracted"]) for r in rows[:2]] == [("boxed", "0.5"), ("final_answer_phrase", "4")]


@pytest.mark.parametrize(("policy", "verdict", "route"), [
    ("strict", False, "none"),  # strict: a closing sentence without a box or answer line is no answer
    ("standard", True, "last_expression"),  # standard: its expression is the answer
])
def test_verify_math_cli_extraction_policy(tmp_path, policy, verdict, route):
    completed, target = run_verify(tmp_path, [{"gold": "x \\ge 5", "pred": "Therefore $x \\geq 5$ is the solution."}],
                                   "--extraction", policy)
    assert completed.returncode == 0, completed.stderr
    row = json.loads(target.read_text())
    assert (row["verdict"], row["route"]) == (verdict, route)
    assert f"({policy} extraction)" in completed.stderr


def test_verify_math_cli_names_the_bad_row_and_writes_nothing(tmp_path):
    completed, target = run_verify(tmp_path, [{"gold": "1", "pred": "\\boxed{1}"}, {"gold": "2"}])
    assert completed.returncode == 2
    assert "row 2" in completed.stderr and "'pred'" in completed.stderr
    assert not target.exists()


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1", "soon"])  # nan/inf hung, 0/-1 judged nothing
def test_verify_math_cli_rejects_bad_timeouts_in_one_line(tmp_path, value):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"gold": "1", "pred": "\\boxed{1}"}) + "\n")
    completed = subprocess.run(
        [sys.executable, "-m", "midrl_bench", "verify", "math", str(source), "-o", str(tmp_path / "out.jsonl"),
         f"--timeout-s={value}"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    shown = repr(value) if value == "soon" else value
    assert completed.stderr.strip() == f"midrl verify: --timeout-s: timeout_s must be a finite number > 0, got {shown}"
    assert not (tmp_path / "out.jsonl").exists()


# ------------------------------------------------------------------------------------------ process hygiene
def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited; only its reaper is missing


def _busy_verify(tmp_path) -> tuple[subprocess.Popen, set[int]]:
    """A real `midrl verify math` run whose two workers are stuck in sympy (power towers, 60 s timeout)."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"gold": "7", "pred": "\\boxed{10^{10^{10^{10}}}}"}) + "\n" for _ in range(8)))
    process = subprocess.Popen(
        [sys.executable, "-m", "midrl_bench", "verify", "math", str(source), "-o", str(tmp_path / "out.jsonl"),
         "--workers", "2", "--timeout-s", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = _children(process.pid)
    assert len(workers) == 2, "the checker workers never started"
    time.sleep(2.0)  # let them import and start on their items
    return process, workers


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])  # SIGKILL: no handler can run in the parent
def test_workers_die_with_the_verify_process(tmp_path, sig):
    process, workers = _busy_verify(tmp_path)
    assert all(_alive(pid) for pid in workers)
    os.kill(process.pid, sig)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), f"orphaned checker workers after {sig.name}"
    assert not (tmp_path / "out.jsonl").exists()  # nothing half-written
