"""Control groups for the sandbox: one cgroup per running program that caps the whole process tree it starts.

A program's cgroup bounds total memory (`memory.max` / `memory.limit_in_bytes`), which counts every page the tree
charges: anonymous memory of all its processes, tmpfs pages (its working directory) and memfd pages, and the number of
processes and threads (`pids.max`). Per-process rlimits cannot: 60 memfds or three forked children each stay under an
address-space limit.

Detected once per process (`support()`), strongest first:
- cgroup v2 (unified hierarchy) with the `memory` and `pids` controllers usable in a sub-tree of this process's
  cgroup (they must be enabled in its `cgroup.subtree_control`, or enable-able there);
- cgroup v1 with the `memory` and `pids` hierarchies mounted and writable (a hybrid layout, common in containers and
  micro-VMs, where v2 exists but holds no controller);
- none: `missing` says why; the sandbox then relies on rlimits alone, and `midrl sandbox check` says so.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "midrl-sandbox-"


@dataclass(frozen=True)
class CgroupSupport:
    version: int | None  # 2, 1, or None when no usable cgroup controllers
    memory_base: Path | None = None  # where per-program memory cgroups are made
    pids_base: Path | None = None  # where per-program pids cgroups are made (the same directory in v2)
    missing: tuple[str, ...] = field(default_factory=tuple)  # why a stronger form is not used

    @property
    def level(self) -> str:
        return f"cgroup-v{self.version}" if self.version else "none"

    def to_dict(self) -> dict:
        return {"level": self.level, "memory_base": str(self.memory_base or ""), "pids_base": str(self.pids_base or ""),
                "missing": list(self.missing)}


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per controller ('' for the v2 unified hierarchy)."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _v2(own: dict[str, str]) -> tuple[Path | None, str]:
    mount = ROOT if (ROOT / "cgroup.controllers").is_file() else ROOT / "unified"
    if not (mount / "cgroup.controllers").is_file() or "" not in own:
        return None, "cgroup v2: no unified hierarchy mounted"
    base = mount / own[""].lstrip("/")
    available = set((base / "cgroup.controllers").read_text().split())
    if not {"memory", "pids"} <= available:
        return None, f"cgroup v2: controllers memory and pids not available at {base} (has: {sorted(available)})"
    enabled = set((base / "cgroup.subtree_control").read_text().split())
    if not {"memory", "pids"} <= enabled:
        try:
            (base / "cgroup.subtree_control").write_text("+memory +pids")
        except OSError as error:
            return None, f"cgroup v2: cannot enable memory and pids below {base}: {error.strerror}"
    return base, ""


def _v1(own: dict[str, str]) -> tuple[Path | None, Path | None, str]:
    bases = []
    for name in ("memory", "pids"):
        mount = ROOT / name
        if name not in own or not (mount / "cgroup.procs").is_file():
            return None, None, f"cgroup v1: no {name} hierarchy mounted at {mount}"
        bases.append(mount / own[name].lstrip("/"))
    return bases[0], bases[1], ""


@cache
def support() -> CgroupSupport:
    """What this machine allows (needs root and a Linux cgroup file system); probed by creating a test cgroup."""
    if os.geteuid() != 0 or not ROOT.is_dir():
        return CgroupSupport(None, missing=("cgroups need root and /sys/fs/cgroup",))
    try:
        own = _own_paths()
        base, why_v2 = _v2(own)
        if base is not None:
            candidate = CgroupSupport(2, base, base)
        else:
            memory, pids, why_v1 = _v1(own)
            if memory is None:
                return CgroupSupport(None, missing=(why_v2, why_v1))
            candidate = CgroupSupport(1, memory, pids, (why_v2,))
        ProgramCgroup(candidate, memory_bytes=64 << 20, processes=8).remove()
    except OSError as error:
        return CgroupSupport(None, missing=(f"cgroups unusable: {error}",))
    return candidate


class ProgramCgroup:
    """The cgroup(s) of one program: made with their limits, joined by the program's first process (write its pid
    into each of `procs_files`), and removed afterwards."""

    def __init__(self, support: CgroupSupport, *, memory_bytes: int, processes: int) -> None:
        name = PREFIX + secrets.token_hex(8)
        self.directories: list[Path] = []
        try:
            if support.version == 2:
                self._make(support.memory_base / name, {"memory.max": memory_bytes, "memory.swap.max": 0,
                                                        "pids.max": processes})
            else:
                self._make(support.memory_base / name, {"memory.limit_in_bytes": memory_bytes,
                                                        "memory.memsw.limit_in_bytes": memory_bytes})
                self._make(support.pids_base / name, {"pids.max": processes})
        except OSError:
            self.remove()
            raise
        self.version = support.version

    def _make(self, directory: Path, limits: dict[str, int]) -> None:
        directory.mkdir(mode=0o755)
        self.directories.append(directory)
        for name, value in limits.items():
            if (directory / name).exists():  # memsw / swap files exist only when swap accounting is on
                (directory / name).write_text(str(value))

    @property
    def procs_files(self) -> list[str]:
        return [str(directory / "cgroup.procs") for directory in self.directories]

    def memory_limit_hit(self) -> bool:
        """True when the kernel had to kill a process of this tree for memory (or refused it memory)."""
        memory = self.directories[0] if self.directories else None
        try:
            if self.version == 2:
                events = dict(line.split() for line in (memory / "memory.events").read_text().splitlines())
                return int(events.get("oom_kill", 0)) > 0 or int(events.get("max", 0)) > 0
            control = dict(line.split() for line in (memory / "memory.oom_control").read_text().splitlines())
            return int(control.get("oom_kill", 0)) > 0 or int((memory / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError, TypeError):
            return False

    def remove(self, attempts: int = 50) -> None:
        """Remove the directories (empty once the program's PID namespace is gone; retried briefly)."""
        for directory in reversed(self.directories):
            for _ in range(attempts):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
        self.directories = []
