"""What every child process we start needs: to die with its parent, and a name by which another process can tell
whether it still lives (the job leases' holder)."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """In a child process: be killed (SIGKILL) as soon as the process that started it is gone, however it ended.

    On Linux the kernel does it (prctl PR_SET_PDEATHSIG). It fires when the *thread* that started this process
    ends, so a parent must start children from a thread that lives as long as it does (its main thread, or one
    kept for the purpose). `parent` is the pid the caller expects as parent: when it is already gone (it died
    before this ran), the process leaves at once. Elsewhere this only checks that."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """When the process started (clock ticks since boot, /proc/<pid>/stat), None if there is no such live process:
    a pid alone names another process once it is reused; a zombie has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def process_identity() -> str:
    """This process, named so that any process on the same machine can tell whether it still lives: pid@host,
    then the boot, the pid namespace and the start time that make the pid unambiguous."""
    start = _start_time(os.getpid()) or ""
    return f"{os.getpid()}@{socket.gethostname()[:60]};{_boot_id()};{_pid_namespace()};{start}"


def process_gone(identity: str) -> bool:
    """True only when the process `identity` names (process_identity's text) is known to have ended: it ran on
    this machine since its last boot, in this pid namespace, and no live process has its pid and start time.
    False when that cannot be known here (another machine or container, no /proc)."""
    try:
        who, boot, namespace, start = identity.split(";")
        pid = int(who.split("@", 1)[0])
    except ValueError:
        return False
    here = _boot_id()
    if not here or not start or boot != here or namespace != _pid_namespace():
        return False
    return _start_time(pid) != start
