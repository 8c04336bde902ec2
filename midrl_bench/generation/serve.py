"""A real OpenAI-compatible server on loopback: `transformers serve <folder>` as a context manager.

Used by tests, CI and the toy world to exercise the `openai` backend end to end without any network. Needs the
`transformers[serving]` extras (fastapi, uvicorn, openai, pydantic).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(model_dir: str | Path, port: int, device: str = "cpu") -> list[str]:
    """The `transformers serve` command line (the console script next to this interpreter when there is one)."""
    script = Path(sys.executable).with_name("transformers")
    launcher = [str(script)] if script.is_file() else [shutil.which("transformers") or "transformers"]
    return [*launcher, "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port), "--device", device]


@contextlib.contextmanager
def local_openai_server(
    model_dir: str | Path, port: int | None = None, device: str = "cpu", startup_timeout_s: float = 300.0
) -> Iterator[str]:
    """Start `transformers serve` on 127.0.0.1, wait until `/v1/models` answers, yield the base url (`.../v1`).

    The server is terminated (then killed) on exit; a server that dies or never answers raises with its log tail.
    """
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    with tempfile.TemporaryFile(mode="w+b") as log:
        process = subprocess.Popen(
            serve_command(model_dir, port, device), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            _wait_until_ready(process, base_url, startup_timeout_s, log)
            yield base_url
        finally:
            _stop(process)


def _wait_until_ready(process: subprocess.Popen, base_url: str, timeout_s: float, log) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"transformers serve exited with code {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(base_url + "/models", timeout=5) as reply:
                json.loads(reply.read().decode("utf-8"))
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            time.sleep(0.5)
    raise TimeoutError(f"transformers serve did not answer {base_url}/models within {timeout_s} s:\n{_tail(log)}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (uvicorn may fork), then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def _tail(log, limit_chars: int = 4000) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-limit_chars:]
