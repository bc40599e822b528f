"""Each daemon test gets its own daemon folder (a private XDG_RUNTIME_DIR) and no daemon left after it."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbrun.kernel.daemon import DaemonUnavailable, daemon_status, stop_daemon
from tests.support.procs import wait_gone


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch, no_leaked_kernels: None) -> Iterator[Path]:
    """A private XDG_RUNTIME_DIR (short: a socket path has ~100 characters); its daemon is stopped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="nbd-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.delenv("NBRUN_DAEMON", raising=False)
    try:
        yield folder
    finally:
        _stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _stop(folder: Path) -> None:
    (folder / "nbrun").chmod(0o700) if (folder / "nbrun").is_dir() else None
    try:
        status = daemon_status()
    except DaemonUnavailable:
        status = None
    if status is not None:
        stop_daemon()
        left = wait_gone({status.pid}, timeout=10)
        for pid in left:  # a daemon that would not stop still must not outlive the test
            os.kill(pid, signal.SIGKILL)
        assert not left, f"the daemon {status.pid} did not stop"
