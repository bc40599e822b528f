"""Finding kernel processes by pid (psutil: the one process scanner of the tests), to prove none is left."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable

import psutil

from tests.support.load import within

# Every process this test session starts inherits the marker, kernels too,
# so kernels of other nbrun runs on the machine are never counted. Each
# pytest-xdist worker has its own: a worker never counts another's kernels.
MARKER = "NBRUN_TEST_SESSION"
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ[MARKER] = f"{os.environ['PYTEST_XDIST_WORKER']}-{os.getpid()}-{uuid.uuid4().hex}"
else:
    os.environ.setdefault(MARKER, uuid.uuid4().hex)
_MARK = f"{MARKER}={os.environ[MARKER]}".encode()


def session_pids(matches: Callable[[list[bytes]], bool]) -> set[int]:
    """Live (non-zombie) processes of this test session whose argv satisfies *matches*."""
    found = set()
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            cmdline = [os.fsencode(part) for part in process.cmdline()]  # argv may hold non-UTF-8 names
            if not matches(cmdline):
                continue
            marked = process.environ().get(MARKER) == os.environ[MARKER]
        except (psutil.Error, OSError):
            continue
        if marked:
            found.add(process.pid)
    return found


def pids_with(marker: str) -> set[int]:
    """Pids of any process (not only this session's) whose command line contains *marker*."""
    found = set()
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and any(marker in part for part in process.cmdline()):
                found.add(process.pid)
        except (psutil.Error, OSError):
            continue
    return found


def kernel_pids() -> set[int]:
    """Pids of live kernels (launched or forked) and kernel templates started by nbrun in this test session."""

    def is_kernel(cmdline: list[bytes]) -> bool:
        launched = any(b"ipykernel" in part for part in cmdline) and any(b"nbrun-" in part for part in cmdline)
        return launched or any(part.endswith(b"_forkserver.py") for part in cmdline)

    return session_pids(is_kernel)


def wait_gone(pids: set[int], timeout: float = 5.0) -> set[int]:
    """Wait until *pids* have exited; return those still alive."""
    deadline = time.monotonic() + within(timeout)
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _alive(pid)}
        if alive:
            time.sleep(0.05)
    return alive


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def pid_alive(pid: int) -> bool:
    return _alive(pid)
