"""Exclusive locks between processes: on a folder (its image ownership record), on a file (an environment's build)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
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


@contextlib.asynccontextmanager
async def waiting_lock(path: Path, poll: float = 0.05) -> AsyncIterator[None]:
    """Hold an exclusive ``flock`` on the file *path* (created if missing), waiting without blocking the loop.

    Two holders in one process conflict as two processes do (each opens the
    file anew), so concurrent jobs of one batch wait for each other too.
    Where ``flock`` is missing (Windows) this does not lock.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(poll)
        yield
    finally:
        os.close(fd)
