"""Start the real server (`matcher serve`) on 127.0.0.1 for tests that talk HTTP to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """The processes pid started (any of its threads), from /proc/<pid>/task/*/children; none once it is gone."""
    out = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(x) for x in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (an ended process its parent has not reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


class Server:
    """`matcher serve` in a subprocess; `.url` is its base address. Start, kill -9, and start again on one port."""

    def __init__(self, database_url: str, log: Path, env: dict[str, str] | None = None, workers: int = 1):
        self.database_url, self.log, self.env, self.workers = database_url, log, env or {}, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Server:
        env = {**os.environ, "MATCHER_SOLVE_WORKERS": "1", **self.env}
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen([sys.executable, "-m", "matcher.cli", "serve", "--host", "127.0.0.1",
                                          "--port", str(self.port), "--database-url", self.database_url,
                                          "--log-level", "warning",
                                          *(["--workers", str(self.workers)] if self.workers != 1 else [])],
                                         stdout=fh, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout} s:\n{self.log.read_text()[-3000:]}")

    def children(self) -> list[int]:
        assert self.proc is not None
        return children_of(self.proc.pid)

    def descendants(self) -> list[int]:
        """Every process under the server: its children, theirs, and so on."""
        assert self.proc is not None
        out, todo = [], children_of(self.proc.pid)
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += children_of(pid)
        return out

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run, as in a crash or an out-of-memory kill."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
