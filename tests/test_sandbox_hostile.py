"""Hostile programs are contained by the sandbox at the strongest level this machine offers, and the host is
unchanged afterwards: files outside the working directory, the parent and a bystander process, the environment
secret, the network, and no process left behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from midrl_bench.verify.code import Sandbox, SandboxLimits, work_root
from midrl_bench.verify.isolation import SLOT_COUNT, SLOT_UID_BASE, available_levels, level_rank

SECRET = "midrl-secret-7c1e9f"
LIMITS = SandboxLimits(timeout_s=3.0, memory_mb=256, processes=32, output_kb=64)


@dataclass(frozen=True)
class Hostile:
    name: str
    source: str  # formatted with {canary_file}, {outside_dir}, {bystander_pid}, {parent_pid}, {port}
    statuses: tuple[str, ...]  # acceptable result statuses
    min_level: str = "namespaces"  # the weakest level at which the sandbox contains this case
    max_duration_s: float = LIMITS.timeout_s + 2.0


HOSTILE = [
    # Fork bomb: RLIMIT_NPROC on the dedicated uid stops the growth; the group/namespace kill ends it at the timeout.
    Hostile("fork_bomb", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
            ("timeout", "failed")),
    # Infinite loop: the wall-clock limit kills it.
    Hostile("infinite_loop", "while True:\n    pass\n", ("timeout",), min_level="process"),
    # Memory hog: the address-space limit turns it into a MemoryError, not host swapping.
    Hostile("memory_hog", "blocks = []\nwhile True:\n    blocks.append(bytearray(64 << 20))\n", ("failed",),
            min_level="process"),
    # Writes a new file and deletes a world-writable file outside the working directory: read-only view.
    Hostile("write_and_delete_outside",
            "import os\nopen({outside_dir!r} + '/planted.txt', 'w').write('x')\nos.remove({canary_file!r})\n",
            ("failed",)),
    # Opens a TCP connection to a server the test listens on, and to a public address: no network namespace route.
    Hostile("network_connection",
            "import socket\nfor address in [('127.0.0.1', {port}), ('1.1.1.1', 80)]:\n"
            "    try:\n        socket.create_connection(address, timeout=1).sendall(b'leak')\n"
            "        print('CONNECTED', address)\n    except OSError as error:\n        print('blocked', error)\n",
            ("passed",)),
    # Reads the parent's environment: scrubbed env, and the parent's /proc entry is not visible.
    Hostile("read_parent_env_secret",
            "import os\nprint(dict(os.environ))\nfor pid in [{parent_pid}, os.getppid(), 1]:\n"
            "    try:\n        print(open(f'/proc/{{pid}}/environ', 'rb').read())\n"
            "    except OSError as error:\n        print('denied', error)\n",
            ("passed",)),
    # Kills the parent, a bystander, its own group and everything it can signal (kill -1).
    Hostile("kill_parent",
            "import os, signal\nfor pid in [{parent_pid}, {bystander_pid}, os.getppid()]:\n"
            "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError as error:\n        print(error)\n"
            "os.kill(-1, signal.SIGKILL)\n",
            ("passed", "failed"), min_level="user"),
    # Ignores SIGTERM and loops: the sandbox uses SIGKILL on the whole group.
    Hostile("ignore_sigterm", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n",
            ("timeout",), min_level="process"),
    # Double-forks a setsid daemon that would plant a file later; it must die with the program, promptly.
    Hostile("daemon_outlives_program",
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(2)\n"
            "        open({outside_dir!r} + '/daemon.txt', 'w').write('x')\n        os._exit(0)\n    os._exit(0)\n"
            "os.wait()\n",
            ("passed",), min_level="user", max_duration_s=1.5),
    # Prints gigabytes: the output cap kills it early and the result says truncated.
    Hostile("print_gigabytes", "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(4096):\n    sys.stdout.write(chunk)\n",
            ("failed",), min_level="process"),
    # os._exit(0) before the end: the finish marker is missing, so it is not a pass.
    Hostile("early_os_exit", "import os\nos._exit(0)\nraise SystemExit(1)\n", ("failed",), min_level="process"),
    # Non-daemon threads that never finish keep the interpreter alive: the timeout kills it.
    Hostile("threads_never_finish",
            "import threading, time\nfor _ in range(4):\n    threading.Thread(target=time.sleep, args=(1e6,)).start()\n",
            ("timeout",), min_level="process"),
]


def _record_workdirs(monkeypatch) -> list[str]:
    """The sandbox working directories made from now on in this process (the real `mkdtemp` runs; its paths are kept)."""
    import tempfile

    made, real_mkdtemp = [], tempfile.mkdtemp

    def recording_mkdtemp(*args, **kwargs):
        path = real_mkdtemp(*args, **kwargs)
        if os.path.basename(path).startswith("midrl-sandbox-"):
            made.append(path)
        return path

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    return made


def _processes_of(uid: int) -> list[int]:
    """Pids of processes running under `uid`.

    A test checks the uid its own program ran under, not every slot uid: other pytest-xdist workers run sandboxed
    programs under other slot uids at the same time, and counting theirs made this check fail at random.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        owner = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        if owner == uid:
            found.append(int(entry.name))
    return found


@pytest.fixture()
def host(tmp_path, monkeypatch):
    """A world-writable directory outside the sandbox, a canary file in it, a bystander process, an env secret and a
    listening TCP server: everything a hostile program might damage."""
    monkeypatch.setenv("MIDRL_TEST_SECRET", SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    outside.chmod(0o777)
    canary = outside / "canary.txt"
    canary.write_text("untouched")
    canary.chmod(0o666)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    yield {"outside": outside, "canary": canary, "bystander": bystander, "server": server}
    bystander.kill()
    bystander.wait()
    server.close()


@pytest.mark.parametrize("case", HOSTILE, ids=[case.name for case in HOSTILE])
def test_hostile_program_is_contained_and_host_unchanged(case, host, monkeypatch):
    report = available_levels()
    if level_rank(report.strongest) < level_rank(case.min_level):
        pytest.skip(f"containing {case.name} needs level {case.min_level}; this machine offers {report.strongest}")
    workdirs = _record_workdirs(monkeypatch)
    source = case.source.format(canary_file=str(host["canary"]), outside_dir=str(host["outside"]),
                                bystander_pid=host["bystander"].pid, parent_pid=os.getpid(),
                                port=host["server"].getsockname()[1])
    result = Sandbox(LIMITS).run(source, finish_marker=True)
    time.sleep(0.3)  # give a surviving daemon the chance to act before the host is checked

    assert result.isolation == report.strongest  # the level used is visible in the result
    assert result.status in case.statuses, result
    assert result.duration_s < case.max_duration_s
    assert host["canary"].read_text() == "untouched"  # files outside the working directory are untouched
    assert sorted(p.name for p in host["outside"].iterdir()) == ["canary.txt"]
    assert host["bystander"].poll() is None  # the bystander and this test process are alive
    assert os.environ["MIDRL_TEST_SECRET"] == SECRET
    assert SECRET not in result.stdout and SECRET not in result.stderr_tail  # the secret never reached the program
    with pytest.raises(TimeoutError):  # nobody connected to the host's server
        host["server"].accept()
    assert "CONNECTED" not in result.stdout
    if result.uid is not None:  # levels user and namespaces: a dedicated uid, nothing left running under it
        assert SLOT_UID_BASE <= result.uid < SLOT_UID_BASE + SLOT_COUNT
        assert _processes_of(result.uid) == []
    assert len(workdirs) == 1 and workdirs[0].startswith(work_root())  # one working directory, made and ...
    assert not os.path.exists(workdirs[0])  # ... removed (other xdist workers' sandboxes make and remove theirs)
    assert len(result.stdout) <= LIMITS.output_kb << 10
    if case.name == "print_gigabytes":
        assert result.output_truncated


def test_parent_survives_sigkill_to_its_process_group():
    # Even at the weakest level the program has its own process group: had it shared this test's group, killpg(0)
    # would have killed pytest here, and the bystander with it.
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        result = Sandbox(LIMITS, isolation="process").run("import os, signal\nos.killpg(0, signal.SIGKILL)\n")
        assert result.status == "failed" and result.reason == "killed by SIGKILL"
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
