"""The sandbox's ordinary behaviour: statuses, captured output, limits, levels, parallel runs and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from midrl_bench.verify.code import Sandbox, SandboxLimits, run_programs
from midrl_bench.verify.isolation import LEVELS, IsolationUnavailable, available_levels

LIMITS = SandboxLimits(timeout_s=5.0, memory_mb=512)

CASES = [
    # (source, status, reason fragment, stdout) -- at the strongest level available
    ("print('hello')", "passed", "exit status 0", "hello\n"),  # plain success, stdout captured
    ("import sys\nsys.exit(3)", "failed", "exit status 3", ""),  # non-zero exit status
    ("raise ValueError('boom')", "failed", "exit status 1", ""),  # uncaught exception
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", "failed", "SIGSEGV", ""),  # killed by a signal
    ("import sys\nprint('partial')\nsys.exit(0)\nprint('never')", "passed", "exit status 0", "partial\n"),  # early
    # exit 0 is a pass when no finish marker is asked for
    ("print(open('/dev/stdin').read() == '')", "passed", "exit status 0", "True\n"),  # stdin is closed (empty)
    ("open('data.txt', 'w').write('x' * 10)\nprint(open('data.txt').read())", "passed", "exit status 0",
     "xxxxxxxxxx\n"),  # the working directory is writable
    ("import os\nprint(sorted(os.environ))", "passed", "exit status 0",
     "['HOME', 'LANG', 'PATH', 'TMPDIR']\n"),  # scrubbed environment
    ("def broken(:\n    pass", "failed", "exit status 1", ""),  # syntax error
    ("open('big.bin', 'wb').write(b'x' * (32 << 20))", "failed", "exit status 1", ""),  # file-size limit:
    # Python ignores SIGXFSZ, so the 16 MiB limit surfaces as OSError EFBIG
]


@pytest.mark.parametrize(("source", "status", "reason", "stdout"), CASES)
def test_run_reports_status_reason_and_output(source, status, reason, stdout):
    result = Sandbox(LIMITS).run(source)
    assert (result.status, result.stdout) == (status, stdout), result
    assert reason in result.reason
    assert result.isolation == available_levels().strongest
    assert result.duration_s > 0


def test_stderr_tail_names_the_error_in_the_program():
    result = Sandbox(LIMITS).run("x = 1\nassert x == 2, 'wrong answer'\n")
    assert result.status == "failed"
    assert "AssertionError: wrong answer" in result.stderr_tail
    assert "program.py\", line 2" in result.stderr_tail  # the program's own frame, not the launcher's


def test_finish_marker_separates_completion_from_early_success_exit():
    sandbox = Sandbox(LIMITS)
    assert sandbox.run("x = 1", finish_marker=True).status == "passed"
    early = sandbox.run("import sys\nsys.exit(0)\n", finish_marker=True)
    assert early.status == "failed" and "before reaching the end" in early.reason


def test_run_many_keeps_order_and_runs_in_parallel():
    sources = [f"import time\ntime.sleep(0.5)\nprint({i})" for i in range(4)]
    results = run_programs(sources, limits=LIMITS, workers=4)
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(4)]
    assert all(r.status == "passed" for r in results)


@pytest.mark.parametrize("level", LEVELS)
def test_every_available_level_runs_programs_and_is_recorded(level):
    if level not in available_levels().available:
        pytest.skip(f"level {level} not available here")
    with Sandbox(LIMITS, isolation=level, workers=1) as sandbox:
        result = sandbox.run("import os\nprint(os.getuid() == 0)")
    assert result.status == "passed" and result.isolation == level
    runs_as_root = level == "process" and os.geteuid() == 0  # only level process keeps the caller's uid
    assert result.stdout == f"{runs_as_root}\n"


def test_minimum_level_is_enforced_with_a_clear_error():
    with pytest.raises(IsolationUnavailable, match="required"):
        Sandbox(LIMITS, isolation="process", min_isolation=available_levels().strongest
                if available_levels().strongest != "process" else "user")
    with pytest.raises(ValueError, match="unknown isolation level 'strongest'"):
        Sandbox(LIMITS, min_isolation="strongest")


@pytest.mark.parametrize("field", ["timeout_s", "memory_mb", "processes", "output_kb"])
def test_limits_reject_non_positive_values(field):
    with pytest.raises(ValueError, match=field):
        SandboxLimits(**{field: 0})


def _midrl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "midrl_bench", "sandbox", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_run_prints_one_json_result(tmp_path):
    program = tmp_path / "prog.py"
    program.write_text("while True:\n    pass\n")
    completed = _midrl("run", str(program), "--timeout-s", "1", "--memory-mb", "256")
    result = json.loads(completed.stdout)
    assert completed.returncode == 1
    assert result["status"] == "timeout" and result["isolation"] == available_levels().strongest
    program.write_text("print(2 + 2)\n")
    completed = _midrl("run", str(program), "--min-isolation", available_levels().strongest)
    assert completed.returncode == 0 and json.loads(completed.stdout)["stdout"] == "4\n"


def test_cli_check_lists_levels_and_run_refuses_missing_file(tmp_path):
    report = json.loads(_midrl("check").stdout)
    assert report["available"] == list(available_levels().available)
    assert report["strongest"] == available_levels().strongest
    completed = _midrl("run", str(tmp_path / "missing.py"))
    assert completed.returncode == 2 and "missing.py" in completed.stderr


SYSTEM_PYTHON = "/usr/bin/python3"
PROBE_FROM_ANOTHER_VENV = """
import json, sys
sys.path.insert(0, {repo!r})
from midrl_bench.verify.isolation import available_levels, sandbox_interpreter
print(json.dumps([sandbox_interpreter("user"), available_levels().to_dict()]))
"""


@pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason="no system python3 to build a venv on")
def test_a_venv_on_the_system_python_in_a_public_directory_is_never_shown_to_the_program(tmp_path_factory):
    """A CI clone's venv lives inside the project (readable by everyone); the sandbox must run the venv's base
    interpreter, or the namespace would mount the venv's path and with it the host directories above it."""
    import tempfile

    public = tempfile.mkdtemp(prefix="midrl-venv-")
    os.chmod(public, 0o755)  # like a project checkout: every uid may traverse it
    try:
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", f"{public}/venv"], check=True, timeout=120)
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        completed = subprocess.run([f"{public}/venv/bin/python", "-c", PROBE_FROM_ANOTHER_VENV.format(repo=repo)],
                                   capture_output=True, text=True, timeout=120, check=True)
    finally:
        import shutil

        shutil.rmtree(public)
    interpreter, report = json.loads(completed.stdout)
    assert interpreter is None or not interpreter.startswith(public), interpreter
    assert report["available"] == list(available_levels().available), report["unavailable"]
