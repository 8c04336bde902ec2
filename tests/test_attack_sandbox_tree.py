"""Hostile programs that attack the sandbox through the whole program tree (issue 12, item 2): memory through side
doors (tmpfs in a nested user namespace, memfds, forked children), the process count, nested user namespaces, and
the host's world-readable files. Each limit is asserted at the strongest form this machine offers; a case is skipped
only where the kernel lacks the feature, and the skip says which."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from midrl_bench.verify import cgroups
from midrl_bench.verify.code import Sandbox, SandboxLimits
from midrl_bench.verify.isolation import available_levels

PROJECT_FILE = Path(__file__).resolve()
PAPER = Path("/work/shared/PAPER.md")


def _kernel_has(controller: str) -> bool:
    """The kernel has the cgroup controller compiled in and enabled (/proc/cgroups)."""
    for line in Path("/proc/cgroups").read_text().splitlines()[1:]:
        name, _, _, enabled = line.split()
        if name == controller:
            return enabled == "1"
    return False


def _needs_namespaces() -> None:
    if "namespaces" not in available_levels().available:
        pytest.skip(f"level namespaces unavailable here: {available_levels().unavailable.get('namespaces')}")


def _needs_tree_limits() -> None:
    if not (_kernel_has("memory") and _kernel_has("pids")):
        pytest.skip("the kernel has no memory/pids cgroup controller")


def test_tree_limits_use_the_strongest_cgroup_form_this_machine_has():
    _needs_tree_limits()
    support = cgroups.support()
    assert support.version in (1, 2), support.missing  # the kernel has the controllers, so they must be in use
    unified = Path("/sys/fs/cgroup/cgroup.controllers")
    if unified.is_file() and {"memory", "pids"} <= set(unified.read_text().split()):
        assert support.version == 2  # a pure v2 machine with the controllers: v2, not a fallback
    if support.version == 1:
        assert any("cgroup v2" in why for why in support.missing)  # the report says why v2 is not used


NESTED_USERNS = '''
import ctypes, errno, os
uid, gid = os.getuid(), os.getgid()
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, so that /proc/self/uid_map is ours to write
if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
    print("refused", errno.errorcode[ctypes.get_errno()])
else:
    open("/proc/self/uid_map", "w").write(f"0 {uid} 1")
    open("/proc/self/setgroups", "w").write("deny")
    open("/proc/self/gid_map", "w").write(f"0 {gid} 1")
    assert libc.mount(b"tmpfs", os.getcwd().encode(), b"tmpfs", 0, b"size=2g") == 0, ctypes.get_errno()
    os.chdir(os.getcwd())  # into the new tmpfs
    for index in range(128):  # 1 GiB in 8 MiB files (each under the file-size limit), far over the 64 MiB workdir
        with open(f"fill{index}", "wb") as handle:
            handle.write(b"x" * (8 << 20))
    print("filled 1 GiB")
'''

MEMFDS = '''
import os, sys
held = []
for count in range(1, 61):
    fd = os.memfd_create("hog")
    os.write(fd, b"x" * (15 << 20))
    held.append(fd)
    print(count, flush=True)
'''

CHILDREN = '''
import os, time
deadline = time.monotonic() + 12  # every child holds its block until this moment, so survivors overlap there
children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        block = bytearray(b"x") * (600 << 20)
        late = time.monotonic() > deadline  # allocated after the others let go: this run cannot tell
        time.sleep(max(0.0, deadline - time.monotonic()))
        os._exit(3 if late else 0)
    children.append(pid)
for pid in children:
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    print({0: "held", 3: "late"}.get(code, "killed"), flush=True)
'''

TMPFS_FILL = '''
with open("fill.bin", "wb") as handle:
    for count in range(1, 401):
        handle.write(b"x" * (1 << 20))
        handle.flush()
        if count % 16 == 0:
            print(count, flush=True)
'''

THREADS = '''
import threading, time
started = 0
try:
    for _ in range(40):
        threading.Thread(target=time.sleep, args=(2,), daemon=True).start()
        started += 1
except RuntimeError as error:
    print("refused", error)
print("started", started)
'''

READ_HOST = '''
import os
for path in {paths!r}:
    try:
        open(path, "rb").read(16)
        print("READABLE", path)
    except OSError as error:
        print("hidden", path, type(error).__name__)
print(sorted(os.listdir("/")))
'''


def _numbers(stdout: str) -> list[int]:
    return [int(token) for token in re.findall(r"^(\d+)$", stdout, re.M)]


def test_nested_user_namespace_is_refused_so_no_tmpfs_can_be_mounted():
    # tmpfs fill in a new user namespace: becoming root of its own namespace is refused by the seccomp filter
    _needs_namespaces()
    result = Sandbox(SandboxLimits(timeout_s=10.0, memory_mb=512)).run(NESTED_USERNS)
    assert result.status == "passed", result
    assert result.stdout.strip() == "refused EPERM"


def test_sixty_memfds_are_capped_by_the_tree_memory_limit():
    # 60 memfds x 15 MiB = 900 MiB of shmem pages, outside any address-space limit: the cgroup counts them
    _needs_namespaces()
    _needs_tree_limits()
    result = Sandbox(SandboxLimits(timeout_s=20.0, memory_mb=256)).run(MEMFDS)
    held_mb = max(_numbers(result.stdout), default=0) * 15
    assert result.status == "failed", result
    assert held_mb <= 256, result.stdout[-200:]
    assert "memory limit of the program tree" in result.reason
    assert result.tree_limits == cgroups.support().level  # recorded in the result


def test_three_forked_children_share_one_memory_limit(tmp_path):
    # three children x 600 MiB under `midrl sandbox run --memory-mb 1024`: each is under the per-process limit, the
    # tree is not. Every child that is not killed holds its block at one common moment, so at most one may survive;
    # a child killed after it allocated is fine (the kernel took its block back before a sibling got one)
    _needs_namespaces()
    _needs_tree_limits()
    program = tmp_path / "children.py"
    program.write_text(CHILDREN)
    completed = subprocess.run([sys.executable, "-m", "midrl_bench", "sandbox", "run", str(program), "--memory-mb",
                                "1024", "--timeout-s", "40"], capture_output=True, text=True, timeout=120)
    result = json.loads(completed.stdout)
    outcomes = result["stdout"].split()
    assert result["isolation"] == "namespaces" and len(outcomes) == 3, result
    assert "late" not in outcomes, result  # a child allocated only after the common moment: the run proves nothing
    assert outcomes.count("held") <= 1 and outcomes.count("killed") >= 2, result


def test_working_directory_tmpfs_pages_count_towards_the_tree_memory():
    # a working directory larger than the memory limit: the tmpfs pages written count, so memory stops the fill
    _needs_namespaces()
    _needs_tree_limits()
    result = Sandbox(SandboxLimits(timeout_s=20.0, memory_mb=128, workdir_mb=512, file_size_mb=512)).run(TMPFS_FILL)
    assert result.status == "failed", result
    assert max(_numbers(result.stdout), default=0) <= 128


@pytest.mark.parametrize("level", ["process", "namespaces"])
def test_process_count_is_capped_for_the_tree(level):
    # 40 threads (each a task) under processes=12. At level process there is no per-uid RLIMIT_NPROC (the caller's
    # uid), so only the cgroup's pids.max can refuse them; at level namespaces both do.
    if level == "namespaces":
        _needs_namespaces()
    else:
        _needs_tree_limits()
    result = Sandbox(SandboxLimits(timeout_s=10.0, processes=12), isolation=level).run(THREADS)
    started = int(result.stdout.split("started")[-1])
    assert "refused" in result.stdout and started < 12, result


def test_host_files_are_not_visible():
    # world-readable host files (the shared paper, a project file, system configuration) are not in the view
    _needs_namespaces()
    paths = [str(PAPER), str(PROJECT_FILE), "/etc/passwd", "/proc/1/root/etc/passwd"]
    result = Sandbox(SandboxLimits(timeout_s=10.0)).run(READ_HOST.format(paths=paths))
    assert result.status == "passed", result
    assert "READABLE" not in result.stdout
    listing = json.loads(result.stdout.strip().splitlines()[-1].replace("'", '"'))
    assert set(listing) <= {"dev", "lib", "lib32", "lib64", "proc", "usr"}  # interpreter, libraries, devices


def test_sandbox_check_reports_levels_tree_limits_and_what_is_missing():
    completed = subprocess.run([sys.executable, "-m", "midrl_bench", "sandbox", "check"], capture_output=True,
                               text=True, timeout=120)
    report = json.loads(completed.stdout)
    assert report["strongest"] == available_levels().strongest
    assert report["tree_limits"]["level"] == cgroups.support().level
    assert report["missing"] == [*cgroups.support().missing, *available_levels().unavailable.values()]
    if cgroups.support().version:
        assert report["tree_limits"]["in_force"]["memory_mb_whole_tree"] == SandboxLimits().memory_mb
