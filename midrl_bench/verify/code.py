"""The sandbox for model-written code: run untrusted Python programs isolated, in parallel, with hard limits.

>>> result = run_program("print(6 * 7)")
>>> result.status, result.stdout
('passed', '42\\n')

Each program is written to a fresh temporary directory and run by a child of a sandbox zygote
(`_sandbox_launcher.py`, one per worker, see `zygote.py`) in its own session and process group, stdin closed,
with a scrubbed environment and rlimits; the parent enforces the wall-clock timeout (the whole group or PID
namespace is killed) and caps the captured output. The isolation level (see
`midrl_bench.verify.isolation`) defaults to the strongest this machine offers and is recorded in every result;
`min_isolation` refuses to run below a level. Where the machine allows, each program also gets its own cgroup
(`midrl_bench.verify.cgroups`, recorded as `tree_limits`) capping the memory and process count of its whole tree.
Status: `passed` (exit 0, and the finish marker seen when asked for), `failed` (non-zero exit, killed, early exit,
output limit), `timeout`, `error` (the sandbox itself could not start the program). The sandbox never raises for
anything the program does.

The finish marker only catches accidental early exits: a hostile program can read its own file and write the nonce.
Verdicts that must hold against hostile code never trust the program's exit status or output beyond plain data:
`result_channel` hands back what the program wrote on fd 3 for the caller to decode strictly and judge outside the
sandbox (see `midrl_bench.tasks.code_cases`).
"""

from __future__ import annotations

import math
import os
import secrets
import selectors
import shutil
import signal
import tempfile
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from midrl_bench.verify import cgroups, isolation
from midrl_bench.verify.cgroups import ProgramCgroup
from midrl_bench.verify.isolation import IsolationUnavailable, UidSlot, level_rank
from midrl_bench.verify.zygote import Zygote, ZygotePool

SETUP_FAILED = 125  # the launcher's exit status when it could not set the sandbox up
STDERR_TAIL_BYTES = 4096
EXIT_GRACE_S = 0.2  # after the program exits, how long leftovers may keep its output pipes open
MARKER_FD = 3
PROGRAM_PATH = ("PATH", "/usr/local/bin:/usr/bin:/bin")
SECCOMP_ARCHES = ("x86_64", "aarch64")  # where the launcher has a seccomp filter refusing nested user namespaces


def work_root() -> str:
    """Where per-program temporary directories are made: /dev/shm (memory; creating and removing a directory
    there costs microseconds, on a disk-backed /tmp milliseconds) when usable, else the system temp dir."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else tempfile.gettempdir()


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 10.0  # wall clock, from start to exit, interpreter start-up included
    memory_mb: int = 1024  # address space (RLIMIT_AS)
    file_size_mb: int = 16  # largest file the program may write
    processes: int = 64  # processes and threads of the program's uid (levels user and namespaces)
    open_files: int = 64
    output_kb: int = 1024  # stdout + stderr together; more kills the program
    workdir_mb: int = 64  # size of the working-directory tmpfs (level namespaces)

    def __post_init__(self) -> None:
        for name in ("timeout_s", "memory_mb", "file_size_mb", "processes", "open_files", "output_kb", "workdir_mb"):
            if not getattr(self, name) > 0:
                raise ValueError(f"SandboxLimits.{name} must be > 0, got {getattr(self, name)!r}")

    def rlimits(self, level: str) -> dict[str, int]:
        limits = {"cpu_s": math.ceil(self.timeout_s) + 1, "address_space_bytes": self.memory_mb << 20,
                  "file_size_bytes": self.file_size_mb << 20, "open_files": self.open_files, "core_bytes": 0}
        if level_rank(level) >= level_rank("user"):
            limits["processes"] = self.processes  # per uid: only meaningful for a dedicated uid
        return limits


@dataclass(frozen=True)
class SandboxResult:
    status: str  # passed | failed | timeout | error
    reason: str
    isolation: str
    exit_code: int | None
    duration_s: float
    stdout: str
    stderr_tail: str
    output_truncated: bool
    channel: str = ""  # what the program wrote on fd 3 when run with `result_channel` (untrusted bytes, decoded)
    tree_limits: str = "none"  # how the whole program tree was capped: cgroup-v2 | cgroup-v1 | none
    uid: int | None = None  # the dedicated uid the program ran under (levels user and namespaces), else None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Outcome:
    stdout: bytearray
    stderr: bytearray
    marker: bytearray
    timed_out: bool = False
    over_limit: bool = False


class Sandbox:
    """Runs programs at one isolation level with one set of limits; `run` for one, `run_many` for a batch."""

    def __init__(self, limits: SandboxLimits | None = None, *, isolation: str | None = None,
                 min_isolation: str = "process", workers: int | None = None, site_packages: bool = False,
                 _probing: bool = False) -> None:
        self.limits = limits or SandboxLimits()
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.site_packages = site_packages
        if _probing:  # used by isolation.available_levels() itself
            self.level = isolation or "namespaces"
        else:
            self.level = _choose_level(isolation, min_isolation)
        self.interpreter = isolation_interpreter(self.level)
        self._zygotes = ZygotePool(self.interpreter, site_packages)
        weakref.finalize(self, self._zygotes.close)

    @property
    def tree_limits(self) -> str:
        """How the whole program tree is capped: `cgroup-v2`, `cgroup-v1` or `none` (rlimits per process only)."""
        return cgroups.support().level

    def describe(self) -> dict:
        return {"isolation": self.level, "tree_limits": self.tree_limits, "interpreter": self.interpreter,
                "workers": self.workers, "site_packages": self.site_packages, "limits": asdict(self.limits)}

    def run(self, source: str, *, finish_marker: bool = False, result_channel: bool = False) -> SandboxResult:
        """Run one program. With `finish_marker`, `passed` also requires the program to reach its last line
        (a statement appended by the sandbox writes a fresh random nonce to a private pipe), so an early
        `os._exit(0)` or `sys.exit(0)` does not count as success. With `result_channel`, fd 3 is a pipe whose
        contents come back as `SandboxResult.channel` (counted in the output limit); the caller must treat them as
        untrusted. The two options share fd 3 and exclude each other."""
        if finish_marker and result_channel:
            raise ValueError("finish_marker and result_channel both use fd 3; choose one")
        started = time.monotonic()
        try:
            return self._run(source, finish_marker, result_channel, started)
        except (OSError, ValueError, KeyError, IsolationUnavailable) as error:
            return SandboxResult("error", f"sandbox failure: {error}", self.level, None,
                                 time.monotonic() - started, "", "", False)

    def run_many(self, sources: Sequence[str], *, finish_marker: bool = False,
                 result_channel: bool = False) -> list[SandboxResult]:
        """Run many programs, at most `workers` at a time; results in input order."""
        if not sources:
            return []
        options = {"finish_marker": finish_marker, "result_channel": result_channel}
        with ThreadPoolExecutor(max_workers=min(self.workers, len(sources))) as pool:
            return list(pool.map(lambda source: self.run(source, **options), sources))

    def close(self) -> None:
        """Stop the idle zygotes (also happens when the Sandbox is garbage-collected or the process exits)."""
        self._zygotes.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ one program
    def _run(self, source: str, finish_marker: bool, result_channel: bool, started: float) -> SandboxResult:
        slot = UidSlot() if level_rank(self.level) >= level_rank("user") else None
        root = tempfile.mkdtemp(prefix="midrl-sandbox-", dir=work_root())
        pipes = [os.pipe() for _ in range(3 if finish_marker or result_channel else 2)]
        zygote, group = self._zygotes.take(), None
        try:
            group = self._cgroup()
            nonce = secrets.token_hex(16)
            if finish_marker:
                source = f"{source}\n\n__import__('os').write({MARKER_FD}, b'{nonce}')\n"
            zygote.start(self._request(root, source, slot, group), [write for _, write in pipes])
            for _, write in pipes:
                os.close(write)
            pipes = [(read, -1) for read, _ in pipes]
            outcome = self._collect(zygote, [read for read, _ in pipes], started + self.limits.timeout_s)
            if outcome.timed_out or outcome.over_limit:
                zygote.kill()
            exit_code = zygote.status()
            self._zygotes.give(zygote)
            zygote = None
            result = self._result(outcome, exit_code, finish_marker, nonce, time.monotonic() - started)
            if result.status == "failed" and group is not None and group.memory_limit_hit():
                result = replace(result, reason=f"{result.reason}; memory limit of the program tree "
                                                f"({self.limits.memory_mb} MiB, {self.tree_limits}) reached")
            if group is not None:
                result = replace(result, tree_limits=self.tree_limits)
            if result_channel:
                result = replace(result, channel=bytes(outcome.marker).decode("utf-8", "replace"))
            return replace(result, uid=slot.uid if slot is not None else None)
        finally:
            if zygote is not None:
                zygote.close()
            for fd in (fd for pair in pipes for fd in pair if fd >= 0):
                os.close(fd)
            if group is not None:
                group.remove()
            shutil.rmtree(root, ignore_errors=True)
            if slot is not None:
                slot.release()

    def _cgroup(self) -> ProgramCgroup | None:
        support = cgroups.support()
        if support.version is None:
            return None
        return ProgramCgroup(support, memory_bytes=self.limits.memory_mb << 20, processes=self.limits.processes)

    def _request(self, root: str, source: str, slot: UidSlot | None, group: ProgramCgroup | None) -> dict:
        workdir = os.path.join(root, "work")
        os.mkdir(workdir, 0o700)
        os.mkdir(os.path.join(root, "fs"), 0o755)
        program = os.path.join(root, "program.py")
        Path(program).write_text(source, encoding="utf-8")
        if slot is not None:
            for path in (root, workdir, program):
                os.chown(path, slot.uid, slot.gid)
        env = dict([PROGRAM_PATH, ("HOME", workdir), ("TMPDIR", workdir), ("LANG", "C.UTF-8")])
        return {"level": self.level, "uid": slot.uid if slot else None, "gid": slot.gid if slot else None,
                "workdir": workdir, "workdir_mb": self.limits.workdir_mb, "rlimits": self.limits.rlimits(self.level),
                "program": program, "env": env, "fsroot": os.path.join(root, "fs"),
                "seccomp": os.uname().machine in SECCOMP_ARCHES,
                "cgroup_procs": group.procs_files if group is not None else []}

    def _collect(self, zygote: Zygote, fds: list[int], deadline: float) -> _Outcome:
        """Read stdout, stderr (and the marker pipe) until the program is over, the deadline passes or the output
        cap is exceeded. The zygote's socket turns readable once the program has exited and been cleaned up;
        at the weaker levels an escaped process may hold the pipes open a moment longer."""
        outcome = _Outcome(bytearray(), bytearray(), bytearray())
        buffers = dict(zip(fds, (outcome.stdout, outcome.stderr, outcome.marker), strict=False))
        cap, total, exited_at = self.limits.output_kb << 10, 0, None
        with selectors.DefaultSelector() as selector:
            for fd in (*fds, zygote.fileno()):
                selector.register(fd, selectors.EVENT_READ)
            while len(selector.get_map()) > 1 or exited_at is None:
                now = time.monotonic()
                if now >= deadline and exited_at is None:
                    outcome.timed_out = True
                    break
                if exited_at is not None and now - exited_at > EXIT_GRACE_S:
                    break
                wait_s = deadline - now if exited_at is None else EXIT_GRACE_S
                for key, _ in selector.select(timeout=max(wait_s, 0.0)):
                    if key.fd == zygote.fileno():
                        selector.unregister(key.fd)
                        exited_at = time.monotonic()
                        continue
                    data = os.read(key.fd, 65536)
                    if not data:
                        selector.unregister(key.fd)
                        continue
                    total += len(data)
                    buffers[key.fd] += data
                    if key.fd == fds[1] and len(outcome.stderr) > 2 * STDERR_TAIL_BYTES:
                        del outcome.stderr[:-STDERR_TAIL_BYTES]
                    if total > cap:
                        outcome.over_limit = exited_at is None
                        return outcome
        return outcome

    def _result(self, outcome: _Outcome, exit_code: int | None, finish_marker: bool, nonce: str,
                duration_s: float) -> SandboxResult:
        stdout = outcome.stdout[: self.limits.output_kb << 10].decode("utf-8", "replace")
        stderr = outcome.stderr[-STDERR_TAIL_BYTES:].decode("utf-8", "replace")
        truncated = outcome.over_limit or len(outcome.stdout) > self.limits.output_kb << 10
        status, reason = _classify(outcome, exit_code, finish_marker, nonce, stderr, self.limits)
        return SandboxResult(status, reason, self.level, exit_code, round(duration_s, 4), stdout, stderr, truncated)


def _classify(outcome: _Outcome, exit_code: int | None, finish_marker: bool, nonce: str, stderr: str,
              limits: SandboxLimits) -> tuple[str, str]:
    if outcome.timed_out:
        return "timeout", f"wall-clock limit of {limits.timeout_s:g} s reached"
    if outcome.over_limit:
        return "failed", f"output limit of {limits.output_kb} KiB exceeded"
    if exit_code == SETUP_FAILED and "midrl-sandbox:" in stderr:
        return "error", stderr.strip().splitlines()[-1]
    signum = -exit_code if exit_code is not None and exit_code < 0 else None
    if exit_code is not None and exit_code > 128 and exit_code - 128 < signal.NSIG:
        signum = exit_code - 128  # the zygote reports a death by signal as 128 + signal number
    if signum == signal.SIGXCPU:
        return "timeout", f"CPU time limit of {math.ceil(limits.timeout_s) + 1} s reached"
    if signum is not None:
        return "failed", f"killed by {signal.Signals(signum).name}"
    if exit_code != 0:
        return "failed", f"exit status {exit_code}"
    if finish_marker and bytes(outcome.marker) != nonce.encode():
        return "failed", "exited with status 0 before reaching the end of the program"
    return "passed", "exit status 0"


def isolation_interpreter(level: str) -> str:
    interpreter = isolation.sandbox_interpreter(level)
    if interpreter is None:
        raise IsolationUnavailable(f"no Python interpreter usable at isolation level {level!r}")
    return interpreter


def _choose_level(requested: str | None, minimum: str) -> str:
    level_rank(minimum)
    report = isolation.available_levels()
    level = requested or report.strongest
    if level not in report.available:
        why = report.unavailable.get(level, "not available")
        raise IsolationUnavailable(f"isolation level {level!r} is not available on this machine: {why}")
    if level_rank(level) < level_rank(minimum):
        why = report.unavailable.get(minimum, f"level {level!r} was chosen")
        raise IsolationUnavailable(f"isolation level {minimum!r} required, but this run would use {level!r} "
                                   f"(available: {', '.join(report.available)}): {why}")
    return level


def run_program(source: str, *, finish_marker: bool = False, **options) -> SandboxResult:
    """One program with a one-off Sandbox(**options)."""
    return Sandbox(**options).run(source, finish_marker=finish_marker)


def run_programs(sources: Sequence[str], *, finish_marker: bool = False, **options) -> list[SandboxResult]:
    """Many programs in parallel with a one-off Sandbox(**options) (`workers` bounds the parallelism)."""
    return Sandbox(**options).run_many(sources, finish_marker=finish_marker)
