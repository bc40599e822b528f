"""The kernel's stdout/stderr (fd 1 and 2), kept as a bounded head and tail.

The kernel process (and every subprocess it starts) writes into a FIFO in the
session's folder; a reader thread keeps the first ``head_bytes`` (start-up
errors) and the last ``tail_bytes`` and only counts what lies between, so
neither memory nor disk grows with what the kernel writes. Where FIFOs are
missing (Windows) a regular file is used and read back head and tail only.
"""

from __future__ import annotations

import array
import os
import select
import threading
import time
from pathlib import Path
from typing import IO

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 1024 * 1024
_CHUNK = 64 * 1024


class KernelLog:
    """Where a kernel's fd output goes; ``writer`` is passed as its stdout/stderr."""

    def __init__(self, folder: Path, head_bytes: int = HEAD_BYTES, tail_bytes: int = TAIL_BYTES) -> None:
        self.path = folder / "kernel.log"
        self._head_limit = head_bytes
        self._tail_limit = tail_bytes
        self._head = bytearray()
        self._tail = bytearray()
        self._omitted = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._read_fd: int | None = None
        if hasattr(os, "mkfifo"):
            os.mkfifo(self.path, 0o600)
            self._read_fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            self.writer: IO[bytes] = open(self.path, "wb", buffering=0)
            self._thread = threading.Thread(target=self._drain, name="nbrun-kernel-log", daemon=True)
            self._thread.start()
        else:
            self.writer = open(self.path, "wb")

    def _drain(self) -> None:
        fd = self._read_fd
        assert fd is not None
        give_up: float | None = None
        while True:
            if self._stop.is_set():
                give_up = give_up or time.monotonic() + 1.0  # a straggling writer cannot keep us forever
                if time.monotonic() > give_up:
                    return
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                if self._stop.is_set():
                    return
                continue
            try:
                data = os.read(fd, _CHUNK)
            except BlockingIOError:
                continue
            except OSError:
                return
            if not data:
                if self._stop.is_set():
                    return
                self._stop.wait(0.05)  # every writer closed for now; a forked kernel may still open it
                continue
            self._feed(data)

    def _feed(self, data: bytes) -> None:
        with self._lock:
            room = self._head_limit - len(self._head)
            if room > 0:
                self._head += data[:room]
                data = data[room:]
            self._tail += data
            excess = len(self._tail) - self._tail_limit
            if excess > 0:
                del self._tail[:excess]
                self._omitted += excess

    def _snapshot(self) -> tuple[bytes, int, bytes]:
        if self._thread is None:
            return self._read_file()
        with self._lock:
            return bytes(self._head), self._omitted, bytes(self._tail)

    def _read_file(self) -> tuple[bytes, int, bytes]:
        try:
            self.writer.flush()
            with open(self.path, "rb") as handle:
                head = handle.read(self._head_limit)
                size = os.fstat(handle.fileno()).st_size
                start = max(size - self._tail_limit, len(head))
                handle.seek(start)
                return head, start - len(head), handle.read()
        except (OSError, ValueError):
            return b"", 0, b""

    def text(self) -> str:
        """Head, a note of how much was left out, and tail."""
        head, omitted, tail = self._snapshot()
        middle = f"\n[nbrun] ... {omitted:,} bytes of kernel output omitted ...\n".encode() if omitted else b""
        return (head + middle + tail).decode("utf-8", errors="replace")

    def tail(self, max_bytes: int) -> str:
        """The last *max_bytes* of the output (from the tail, or the head if short)."""
        head, omitted, tail = self._snapshot()
        data = tail if omitted or len(tail) >= max_bytes else head + tail
        return data[-max_bytes:].decode("utf-8", errors="replace")

    def settle(self, timeout: float = 0.5) -> None:
        """Wait (briefly) until the reader has taken every byte already written."""
        if self._read_fd is None:
            return
        import fcntl
        import termios

        deadline = time.monotonic() + timeout
        pending = array.array("i", [0])
        while time.monotonic() < deadline:
            try:
                fcntl.ioctl(self._read_fd, termios.FIONREAD, pending)
            except OSError:
                return
            if pending[0] == 0:
                time.sleep(0.005)  # the bytes just read are being stored
                return
            time.sleep(0.01)

    def close(self) -> None:
        """Stop reading (after what is already written has been read) and remove the FIFO."""
        try:
            self.writer.close()
        except OSError:
            pass
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=2.0)
        if self._read_fd is not None and (self._thread is None or not self._thread.is_alive()):
            os.close(self._read_fd)
            self._read_fd = None
