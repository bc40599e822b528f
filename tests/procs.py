"""Finding kernel processes by pid (Linux /proc), to prove none is left."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Callable

# Every process this test session starts inherits the marker, kernels too,
# so kernels of other nbrun runs on the machine are never counted.
MARKER = "NBRUN_TEST_SESSION"
os.environ.setdefault(MARKER, uuid.uuid4().hex)
_MARK = f"{MARKER}={os.environ[MARKER]}".encode()


def session_pids(matches: Callable[[list[bytes]], bool]) -> set[int]:
    """Live (non-zombie) processes of this test session whose argv satisfies *matches*."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z" or not matches(cmdline):
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if _MARK in environ:
            found.add(int(entry.name))
    return found


def kernel_pids() -> set[int]:
    """Pids of live kernels (launched or forked) and kernel templates started by nbrun in this test session."""

    def is_kernel(cmdline: list[bytes]) -> bool:
        launched = any(b"ipykernel" in part for part in cmdline) and any(b"nbrun-" in part for part in cmdline)
        return launched or any(part.endswith(b"_forkserver.py") for part in cmdline)

    return session_pids(is_kernel)


def wait_gone(pids: set[int], timeout: float = 5.0) -> set[int]:
    """Wait until *pids* have exited; return those still alive."""
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _alive(pid)}
        if alive:
            time.sleep(0.05)
    return alive


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def pid_alive(pid: int) -> bool:
    return _alive(pid) and os.path.exists(f"/proc/{pid}")
