"""Parent side of the sandbox zygote (`_sandbox_launcher.py`): start one, hand it run requests, collect statuses.

A zygote is a small interpreter started once and reused for many programs: forking it costs about a millisecond,
where starting a fresh interpreter for every program costs tens. Each is used by one thread at a time (a pool
hands them out); it exits by itself when its socket closes, including when this process dies.
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
from pathlib import Path

LAUNCHER = str(Path(__file__).with_name("_sandbox_launcher.py"))
REPLY_TIMEOUT_S = 30.0  # a zygote answers within milliseconds; silence this long means it is broken


class ZygoteError(OSError):
    """The zygote died or stopped answering."""


class Zygote:
    def __init__(self, interpreter: str, site_packages: bool) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        flags = ["-I", "-B"] + ([] if site_packages else ["-S"])
        try:
            self.process = subprocess.Popen(
                [interpreter, *flags, LAUNCHER, str(theirs.fileno())], pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={},
                start_new_session=True)
        finally:
            theirs.close()
        self.sock = ours
        self.sock.settimeout(REPLY_TIMEOUT_S)

    def fileno(self) -> int:
        """Readable when the running program's status has arrived (i.e. it has exited and been cleaned up)."""
        return self.sock.fileno()

    def start(self, request: dict, fds: list[int]) -> int:
        """Fork a child for `request` with `fds` as its stdout, stderr (and finish-marker) pipes; its pid."""
        socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
        return self._reply()["pid"]

    def kill(self) -> None:
        """Ask the zygote to end the running program (and everything it started)."""
        self.sock.send(b"kill")

    def status(self) -> int:
        """The program's exit status (128 + signal number when killed by a signal); blocks until it is over."""
        return self._reply()["status"]

    def _reply(self) -> dict:
        try:
            message = self.sock.recv(4096)
        except TimeoutError:
            message = b""
        if not message:
            self.close()
            raise ZygoteError(f"sandbox zygote stopped answering (exit status {self.process.poll()})")
        return json.loads(message)

    def alive(self) -> bool:
        return self.process.poll() is None and self.sock.fileno() >= 0

    def close(self) -> None:
        self.sock.close()  # the zygote exits on end of file
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ZygotePool:
    """Idle zygotes of one interpreter; `take` reuses one or starts another, `give` returns it."""

    def __init__(self, interpreter: str, site_packages: bool) -> None:
        self.interpreter = interpreter
        self.site_packages = site_packages
        self._idle: queue.SimpleQueue[Zygote] = queue.SimpleQueue()

    def take(self) -> Zygote:
        while True:
            try:
                zygote = self._idle.get_nowait()
            except queue.Empty:
                return Zygote(self.interpreter, self.site_packages)
            if zygote.alive():
                return zygote

    def give(self, zygote: Zygote) -> None:
        if zygote.alive():
            self._idle.put(zygote)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
