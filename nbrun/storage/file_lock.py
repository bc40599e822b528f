"""An exclusive lock between processes on a folder (for its image ownership record)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def manifest_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on *folder* itself (no lock file is left behind).

    Where ``flock`` is missing (Windows) this does not lock.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
