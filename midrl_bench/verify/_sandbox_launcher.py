"""Sandbox zygote: a small, single-threaded root process that forks one isolated child per untrusted program.

Started by `midrl_bench.verify.code` (one per worker) as `python -I -S -B _sandbox_launcher.py SOCKET_FD`, in its
own session, with an empty environment, under the interpreter the programs will use. Standard library only. It
holds nothing secret: it is a fresh interpreter that only ever receives run requests.

Protocol on the SOCK_SEQPACKET socket: the parent sends a JSON request with three file descriptors (stdout,
stderr and finish-marker pipes); the zygote forks, answers `{"pid": N}`, and when the child has exited (or after
the parent's `kill` message, which the zygote carries out on its own still-unreaped child, so no pid can have been
reused) answers `{"status": S}` (exit status, or 128 + signal number). A closed socket ends the zygote.
Request fields: `level` ("process" | "user" | "namespaces"), `uid`/`gid` (the dedicated unprivileged ids, levels
user and namespaces), `workdir`, `workdir_mb`, `rlimits` ({name: value}), `program`, `env`, `fsroot` (an empty
directory for the new root), `seccomp` (bool), `cgroup_procs` (cgroup.procs files to join).

The child: own session and process group, stdin /dev/null, stdout/stderr/marker on fds 1/2/3, every other fd
closed. Level `namespaces`: unshare(2) new mount, PID, network, IPC and UTS namespaces; fork; the grandchild is
PID 1 (init) of the new PID namespace, so every process the program starts dies with it. In it: mounts are made
private; a small tmpfs becomes the new root (pivot_root, the old root detached) holding bind mounts of only
`view_paths()` (the interpreter, its import path, the shared-library directories), a few devices and the program
file, all made read-only and nosuid (mount_setattr, recursive); then a size-capped tmpfs owned by the program's uid
on the working directory, and a fresh /proc for the new namespace.
The network namespace holds only a loopback interface that is down, so no connection can be made. The child
outside the namespace waits for it and exits with its status; SIGTERM makes it SIGKILL the namespace's init first.
The init forks the program (PID 2, so signals it sends itself act normally) and exits with its status.
Levels `user` and `namespaces` then drop to the dedicated uid/gid with no supplementary groups and set
no_new_privs (setuid binaries cannot regain privileges; RLIMIT_NPROC applies); a seccomp filter (request field
`seccomp`) then refuses nested user namespaces. Before any of this the child joins the program's cgroups (request
field `cgroup_procs`, made by the parent), so the whole tree it starts is capped in memory and process count. After the rlimits the program
runs in this (forked) interpreter as `__main__`, exactly as `python program.py` would, so no second interpreter
start-up is paid per program. Setup failures exit with SETUP_FAILED and a line on stderr starting `midrl-sandbox:`.
"""
# ruff: noqa: E402, I001  (the path fix must come before every other import)

import sys

del sys.path[0]  # this file's directory (midrl_bench/verify) must never shadow a module the program imports

import ctypes
import json
import os
import resource
import select
import signal
import socket

# Imported once in the zygote, so that no program pays for them: what running a program needs, and the standard
# modules programs import most (a forked child shares them copy-on-write; it cannot change the zygote's copies).
import atexit
import runpy
import threading
import traceback
import bisect, collections, functools, heapq, itertools, math, re, string, typing  # noqa: E401,F401

SETUP_FAILED = 125
MARKER_FD = 3
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
SYS_MOUNT_SETATTR = 442  # the same number on every architecture that has it (x86_64, aarch64, ...)
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 1, 38, 22, 2
MS_RDONLY, MS_BIND, MNT_DETACH = 0x1, 0x1000, 0x2
CLONE_NEWUSER = 0x10000000
# Per architecture: seccomp audit arch, and the numbers of pivot_root, clone, unshare, setns, clone3.
ARCHES = {"x86_64": (0xC000003E, {"pivot_root": 155, "clone": 56, "unshare": 272, "setns": 308, "clone3": 435}),
          "aarch64": (0xC00000B7, {"pivot_root": 41, "clone": 220, "unshare": 97, "setns": 268, "clone3": 435})}
LIBRARY_DIRS = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib")
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random",
           "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr")  # the last four: symlinks into /proc/self/fd
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


def view_paths():
    """What the program's filesystem shows (read-only): this interpreter, its import path (the standard library;
    site-packages only when the zygote was started with them) and the system's shared-library directories."""
    paths = [os.path.realpath(sys.executable), sys.executable, *LIBRARY_DIRS]
    paths += [entry for entry in sys.path if entry and os.path.exists(entry)]
    kept = []
    for path in dict.fromkeys(os.path.abspath(p) for p in paths if os.path.lexists(p)):
        if not any(path.startswith(other.rstrip("/") + "/") for other in kept if not os.path.islink(other)):
            kept.append(path)
    return kept


def _bind(source, new_root):
    target = new_root + source
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.islink(source):
        if not os.path.lexists(target):
            os.symlink(os.readlink(source), target)
        return
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    elif not os.path.exists(target):
        open(target, "w").close()
    _mount(source, target, None, MS_BIND | MS_REC)


def _pivot(new_root):
    _check(_libc.syscall(ctypes.c_long(ARCHES[os.uname().machine][1]["pivot_root"]), b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")


def _setup_namespace_child(config):
    """Build the program's filesystem: a small tmpfs root holding only `view_paths()`, the devices, the program file,
    all read-only and nosuid; then the writable working-directory tmpfs and a /proc of the new PID namespace."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    new_root = config["fsroot"]
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for path in (*VIEW_PATHS, *DEVICES, config["program"]):
        if os.path.lexists(path):
            _bind(path, new_root)
    os.makedirs(new_root + config["workdir"], exist_ok=True)
    os.makedirs(new_root + "/proc", exist_ok=True)
    os.chdir(new_root)
    _pivot(new_root)
    _read_only_tree()
    uid, gid = config["uid"], config["gid"]
    _mount("tmpfs", config["workdir"], "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(config['workdir_mb'])}m,mode=0700,uid={uid},gid={gid}")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _libc.sethostname(b"sandbox", 7)


def _filter(arch, numbers):
    """A seccomp filter: nested user namespaces refused (unshare/clone with CLONE_NEWUSER, setns: EPERM; clone3,
    whose flags a filter cannot read: ENOSYS, so the C library falls back to clone), other ABIs of the same
    architecture (x32) and foreign architectures refused, everything else allowed."""
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    return [
        (ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, enosys),  # arch check
        (ld, 0, 0, 0), (jge, 0, 1, 0x40000000), (ret, 0, 0, enosys),  # x32 numbers
        (jeq, 0, 1, numbers["clone3"]), (ret, 0, 0, enosys),
        (jeq, 0, 1, numbers["setns"]), (ret, 0, 0, eperm),
        (jeq, 1, 0, numbers["unshare"]), (jeq, 0, 3, numbers["clone"]),
        (ld, 0, 0, 16), (jset, 0, 1, CLONE_NEWUSER), (ret, 0, 0, eperm),
        (ret, 0, 0, allow),
    ]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _install_seccomp():
    machine = os.uname().machine
    if machine not in ARCHES:
        _fail(f"no seccomp filter for architecture {machine}")
    arch, numbers = ARCHES[machine]
    rows = _filter(arch, numbers)
    program = (_SockFilter * len(rows))(*(_SockFilter(*row) for row in rows))
    fprog = _SockFprog(len(rows), program)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "prctl(SECCOMP)")


def _join_cgroups(config):
    for procs in config.get("cgroup_procs") or ():
        try:
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))
        except OSError as error:
            _fail(f"joining cgroup {procs} failed: {error}")


def _wait_and_exit(child):
    """Wait for `child` and exit with its status (128 + signal number when a signal killed it)."""
    _, status = os.waitpid(child, 0)
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def _enter_namespaces(config):
    """Unshare and fork twice; returns in the program's process (PID 2 of the new namespace, a child of its
    init, so it has ordinary signal semantics). Neither the outside waiter nor the init ever returns."""
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare(mount, pid, net, ipc, uts)")
    init = os.fork()
    if init != 0:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda *_: os.kill(init, signal.SIGKILL))
        _wait_and_exit(init)
    _setup_namespace_child(config)
    program = os.fork()
    if program != 0:
        _wait_and_exit(program)  # the init's exit makes the kernel kill everything else in the namespace
    return


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


def _child_stdio(fds):
    """In the forked child: own session, stdin /dev/null, the parent's pipes on 1, 2 (and 3), nothing else open."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for target, fd in zip((1, 2, MARKER_FD), fds, strict=False):  # the marker pipe is optional
        os.dup2(fd, target)
    os.closerange(MARKER_FD + 1 if len(fds) > 2 else 3, 1 << 16)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(signum, signal.SIG_DFL)


def _run_child(config):
    """Isolate, then run the program as __main__ in this process (never returns into the zygote loop)."""
    level = config["level"]
    _join_cgroups(config)  # before anything forks, so the whole tree is in the program's cgroup
    if level == "namespaces":
        _enter_namespaces(config)
    try:
        if level in ("user", "namespaces"):
            _drop_privileges(config)
        os.chdir(config["workdir"])
    except OSError as error:
        _fail(f"privilege drop or chdir failed: {error}")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    if config.get("seccomp"):
        _install_seccomp()
    _apply_limits(config)
    os.environ.clear()
    os.environ.update(config["env"])
    program = config["program"]
    sys.argv = [program]
    sys.path.insert(0, os.path.dirname(program))
    os._exit(_run_as_main(program))


def _run_as_main(program):
    """Run `program` as __main__ and finish the way the interpreter would (exception -> traceback and status 1,
    SystemExit -> its code, then wait for non-daemon threads and run atexit handlers), without the slow module
    teardown of a full interpreter shutdown, which a forked child does not need. Returns the exit status."""
    code = 0
    try:
        runpy.run_path(program, run_name="__main__")
    except SystemExit as exit_request:
        code = _exit_status(exit_request.code)
    except BaseException as error:  # noqa: BLE001 - whatever the program raised, report it as Python would
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != program:
            tb = tb.tb_next  # hide this launcher's and runpy's frames
        traceback.print_exception(type(error), error, tb or error.__traceback__)
        code = 1
    threading._shutdown()  # what interpreter exit does: join non-daemon threads
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120
    return code


def _exit_status(value):
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def _stop(pid, level):
    try:
        if level == "namespaces":
            os.kill(pid, signal.SIGTERM)  # it SIGKILLs the namespace init and waits: nothing survives that
        else:
            os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap_uid(uid):
    """SIGKILL every process of `uid` (what left the group at level user): a helper drops to it and kills -1."""
    helper = os.fork()
    if helper == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        os._exit(0)
    os.waitpid(helper, 0)


def _supervise(sock, pid, config):
    """Wait for the child (or the parent's kill request); clean up what is left; return its exit status."""
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([sock, pidfd], [], [])
            if pidfd in ready:
                break
            if sock.recv(64) in (b"kill", b""):
                _stop(pid, config["level"])
    finally:
        os.close(pidfd)
    if config["level"] != "namespaces":
        _stop(pid, config["level"])  # the group's stragglers; the zombie still holds the pgid, so it is ours
    _, status = os.waitpid(pid, 0)
    if config["level"] == "user":
        _reap_uid(config["uid"])
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def serve(sock):
    """The zygote loop; returns only in a forked child, with that child's request."""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
        except ConnectionResetError:
            message, fds = b"", []
        if not message:
            os._exit(0)
        if message == b"kill":  # a kill request that crossed paths with its program's exit
            continue
        config = json.loads(message)
        pid = os.fork()
        if pid == 0:
            sock.close()
            _child_stdio(fds)
            return config
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())
        sock.send(json.dumps({"status": _supervise(sock, pid, config)}).encode())


VIEW_PATHS = view_paths()


def main():
    sock = socket.socket(fileno=int(sys.argv[1]))
    config = serve(sock)
    _run_child(config)


if __name__ == "__main__":
    main()
