"""Sandbox launcher: sets up isolation for ONE untrusted program, then replaces itself with it.

Run by `midrl_bench.verify.code` as `python -I -S -B _sandbox_launcher.py CONFIG_JSON`, in its own session, with
stdin closed and a scrubbed environment. Standard library only (it starts before anything else, for every
program). Configuration (JSON): `level` ("process" | "user" | "namespaces"), `uid`/`gid` (the dedicated
unprivileged ids, levels user and namespaces), `workdir`, `workdir_mb`, `rlimits` ({name: value}), `argv`, `env`.

Level `namespaces`: unshare(2) new mount, PID, network, IPC and UTS namespaces; fork; the child becomes PID 1 of
the new PID namespace, so every process the program starts dies with it. In the child: mounts are made private,
the whole tree is made read-only and nosuid (mount_setattr, recursive, in this namespace only), a size-capped
tmpfs owned by the program's uid is mounted on the working directory and a fresh /proc for the new PID
namespace. The network namespace holds only a loopback interface that is down, so no connection can be made.
The launcher's first process stays outside as the namespace's parent and exits with the program's status
(128 + signal number when the program was killed by a signal); if it dies, its child is killed (PDEATHSIG).

Levels `user` and `namespaces` then drop to the dedicated uid/gid with no supplementary groups and set
no_new_privs, so setuid binaries cannot regain privileges and RLIMIT_NPROC applies.
Any setup failure exits with SETUP_FAILED and a one-line message on stderr starting with `midrl-sandbox:`.
"""

import ctypes
import json
import os
import resource
import signal
import sys

SETUP_FAILED = 125
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
SYS_MOUNT_SETATTR = 442  # the same number on every architecture that has it (x86_64, aarch64, ...)
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
RLIMITS = {"cpu_s": resource.RLIMIT_CPU, "address_space_bytes": resource.RLIMIT_AS,
           "file_size_bytes": resource.RLIMIT_FSIZE, "processes": resource.RLIMIT_NPROC,
           "open_files": resource.RLIMIT_NOFILE, "core_bytes": resource.RLIMIT_CORE}

_libc = ctypes.CDLL(None, use_errno=True)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _fail(message):
    os.write(2, f"midrl-sandbox: {message}\n".encode())
    os._exit(SETUP_FAILED)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        _fail(f"{what} failed: {os.strerror(errno)} (errno {errno})")


def _mount(source, target, fstype, flags, data=None):
    encode = lambda value: value.encode() if value is not None else None  # noqa: E731
    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {fstype or source} on {target}")


def _read_only_tree():
    attr = _MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, 0, 0)
    _libc.syscall.restype = ctypes.c_long
    result = _libc.syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), b"/",
                           ctypes.c_uint(AT_RECURSIVE), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
    _check(result, "mount_setattr(/, read-only, recursive)")


def _setup_namespace_child(config):
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _read_only_tree()
    uid, gid = config["uid"], config["gid"]
    _mount("tmpfs", config["workdir"], "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(config['workdir_mb'])}m,mode=0700,uid={uid},gid={gid}")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _libc.sethostname(b"sandbox", 7)


def _enter_namespaces(config):
    """Unshare and fork; returns in the child (PID 1 of the new namespace). The parent never returns."""
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare(mount, pid, net, ipc, uts)")
    child = os.fork()
    if child == 0:
        _setup_namespace_child(config)
        return
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: os.kill(child, signal.SIGKILL))
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))


def _drop_privileges(config):
    uid, gid = config["uid"], config["gid"]
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        _fail(f"could not switch to uid {uid}")


def _apply_limits(config):
    for name, value in config["rlimits"].items():
        try:
            resource.setrlimit(RLIMITS[name], (int(value), int(value)))
        except (ValueError, OSError) as error:
            _fail(f"setrlimit {name}={value} failed: {error}")


def main():
    config = json.loads(sys.argv[1])
    level = config["level"]
    if level == "namespaces":
        _enter_namespaces(config)
    try:
        if level in ("user", "namespaces"):
            _drop_privileges(config)
        os.chdir(config["workdir"])
    except OSError as error:
        _fail(f"privilege drop or chdir failed: {error}")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    _apply_limits(config)
    try:
        os.execve(config["argv"][0], config["argv"], config["env"])
    except OSError as error:
        _fail(f"exec {config['argv'][0]} failed: {error}")


if __name__ == "__main__":
    main()
