"""Isolation levels of the code sandbox: what each one guarantees, which ones this machine offers, and the
dedicated unprivileged uids programs run as.

Levels, weakest to strongest (each includes everything before it):
- `process`: own process, session and process group; rlimits (CPU seconds, address space, file size, processes,
  open files); a wall-clock timeout that kills the whole group; scrubbed environment; stdin closed; fresh
  temporary working directory removed afterwards; captured output capped. Runs as the calling user.
- `user`: the program runs as a dedicated unprivileged uid/gid (one per concurrently running program, with no
  supplementary groups and no_new_privs), so RLIMIT_NPROC really bounds a fork bomb, the host's files are
  protected by ordinary permissions, the parent cannot be signalled, and leftovers are killed by uid afterwards.
  Needs root (CAP_SETUID).
- `namespaces`: additionally private mount, PID, network, IPC and UTS namespaces: no network at all; a filesystem
  of its own (pivot_root) that shows, read-only, only the interpreter, its import path (the standard library) and
  the system's shared-library directories, a few devices (/dev/null, zero, urandom, random) and the program file,
  plus the working directory (a size-capped tmpfs) and a /proc of the new PID namespace: no host directory, no
  project file; no view of host processes; every process the program started dies with it; and a seccomp filter
  refusing nested user namespaces (unshare/clone with CLONE_NEWUSER, setns, clone3), so the program can never
  become root of a namespace of its own and mount anything. Needs root, unshare(2), pivot_root(2),
  mount_setattr(2) (Linux >= 5.12) and seccomp.

Orthogonal to the level, the whole program tree is capped by a cgroup when the machine allows it (see
`midrl_bench.verify.cgroups`; recorded as `tree_limits`: cgroup-v2, cgroup-v1 or none): total memory including
tmpfs and memfd pages, and the number of processes and threads.

`available_levels()` probes the machine once per process by running a small program at the `namespaces` level
and checking the guarantees from inside it, so a kernel or container that forbids one of the steps is detected
rather than assumed.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

LEVELS = ("process", "user", "namespaces")
SLOT_UID_BASE = 1_500_000  # far above real and systemd-dynamic users; no passwd entry needed
SLOT_COUNT = 4096
SLOT_LOCK_DIR = Path(tempfile.gettempdir()) / "midrl-sandbox-slots"


class IsolationUnavailable(RuntimeError):
    """The requested or required isolation level cannot be provided on this machine."""


def level_rank(level: str) -> int:
    if level not in LEVELS:
        raise ValueError(f"unknown isolation level {level!r}; choose one of {', '.join(LEVELS)}")
    return LEVELS.index(level)


@dataclass(frozen=True)
class IsolationReport:
    available: tuple[str, ...]
    unavailable: dict[str, str] = field(default_factory=dict)  # level -> why not

    @property
    def strongest(self) -> str:
        return self.available[-1]

    def to_dict(self) -> dict:
        return {"available": list(self.available), "strongest": self.strongest, "unavailable": self.unavailable,
                "levels": list(LEVELS)}


PROBE_PROGRAM = '''
import errno, os, socket
assert os.getpid() == 2 and os.getppid() == 1, f"not in a new PID namespace (pid {os.getpid()})"
assert os.getuid() != 0 and os.geteuid() != 0, "still root"
for path in ("/midrl-probe", "/tmp/midrl-probe-%d" % os.getppid(), os.path.dirname(os.getcwd()) + "/probe"):
    try:
        open(path, "w").close()
    except OSError:
        pass
    else:
        raise AssertionError(f"could write {path}")
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.settimeout(2)
try:
    sock.connect(("1.1.1.1", 80))
except OSError as error:
    assert error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL), error
else:
    raise AssertionError("network reachable")
open("inside-workdir.txt", "w").write("ok")
import ctypes
assert ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0, "a nested user namespace could be created"
for path in ("/etc", "/home", "/root", "/work", "/tmp", __LAUNCHER__):
    assert not os.path.exists(path), f"host path {path} is visible"
'''


@cache
def available_levels() -> IsolationReport:
    """Which levels work here (probed once per process)."""
    if os.name != "posix" or not sys.platform.startswith("linux"):
        return IsolationReport(("process",), {"user": "Linux only", "namespaces": "Linux only"})
    if os.geteuid() != 0:
        why = "needs root (the program runs as a dedicated unprivileged uid)"
        return IsolationReport(("process",), {"user": why, "namespaces": why})
    if sandbox_interpreter("user") is None:
        why = "no Python interpreter that an unprivileged uid may execute (see sandbox_interpreter)"
        return IsolationReport(("process",), {"user": why, "namespaces": why})
    from midrl_bench.verify.code import Sandbox, SandboxLimits
    from midrl_bench.verify.zygote import LAUNCHER

    probe = PROBE_PROGRAM.replace("__LAUNCHER__", repr(LAUNCHER))
    result = Sandbox(SandboxLimits(timeout_s=20.0), isolation="namespaces", _probing=True).run(probe)
    if result.status == "passed":
        return IsolationReport(LEVELS)
    return IsolationReport(("process", "user"), {"namespaces": f"probe {result.status}: {result.reason}; "
                                                               f"{_last_line(result.stderr_tail)}"})


def _last_line(text: str) -> str:
    """The error a probe's traceback ends with (its frames name a random working directory, so a report that
    quoted them would differ between two probes of the same machine)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][-300:] if lines else "no output"


def _others_may_execute(path: str) -> bool:
    """True when a uid with no relation to the file's owner can execute `path` (every directory traversable)."""
    for candidate in {path, os.path.realpath(path)}:
        try:
            if not stat.S_IMODE(os.stat(candidate).st_mode) & stat.S_IXOTH:
                return False
        except OSError:
            return False
        parent = Path(candidate).parent
        for directory in (parent, *parent.parents):
            if not os.stat(directory).st_mode & stat.S_IXOTH:
                return False
    return True


@cache
def sandbox_interpreter(level: str) -> str | None:
    """The Python the program runs under. At level `process`: this interpreter. Otherwise the first of the
    resolved base interpreter, this one and the system python3 that an unprivileged uid may execute (a pyenv under
    a private home directory is not reachable for the sandbox uid); None when there is none. The base interpreter
    comes first because the program sees only the standard library, and a venv's own path (often inside the project,
    e.g. /work/repo/.venv/bin/python) would otherwise be mounted into the namespace with its directories."""
    if level_rank(level) == 0:
        return sys.executable
    base = getattr(sys, "_base_executable", None)
    candidates = [base and os.path.realpath(base), os.path.realpath(sys.executable), sys.executable,
                  shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")]
    for candidate in candidates:
        if candidate and _others_may_execute(candidate):
            return candidate
    return None


class UidSlot:
    """A dedicated uid held for one running program: an exclusive flock on a per-uid file, so concurrent
    sandboxes (threads or other processes on this machine) never share a uid, a process budget or a reaper."""

    def __init__(self) -> None:
        SLOT_LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
        offset = random.randrange(SLOT_COUNT)
        for step in range(SLOT_COUNT):
            uid = SLOT_UID_BASE + (offset + step) % SLOT_COUNT
            fd = os.open(SLOT_LOCK_DIR / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid = self.gid = uid
            self._fd = fd
            return
        raise IsolationUnavailable(f"all {SLOT_COUNT} sandbox uids are in use")

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing drops the flock
            self._fd = -1
