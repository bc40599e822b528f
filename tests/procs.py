"""Finding kernel processes by pid (Linux /proc), to prove none is left."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

# Every process this test session starts inherits the marker, kernels too,
# so kernels of other nbrun runs on the machine are never counted.
MARKER = "NBRUN_TEST_SESSION"
os.environ.setdefault(MARKER, uuid.uuid4().hex)
_MARK = f"{MARKER}={os.environ[MARKER]}".encode()


def kernel_pids() -> set[int]:
    """Pids of live kernels (launched or forked) and kernel templates started by nbrun in this test session."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        launched = any(b"ipykernel" in part for part in cmdline) and any(b"nbrun-" in part for part in cmdline)
        forked_or_template = any(part.endswith(b"_forkserver.py") for part in cmdline)
        if launched or forked_or_template:
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if _MARK in environ:
                found.add(int(entry.name))
    return found


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
