"""What a kernel's process tree uses: resident memory and CPU time, read from outside through /proc.

The kernel process's own peak is exact: Linux keeps its high-water mark
(``VmHWM``), which nbrun resets before each cell (``/proc/PID/clear_refs``).
Processes the kernel starts are found through ``/proc/PID/task/TID/children``
and added by sampling (:meth:`ProcessTree.sample`), so a child's peak shorter
than the sampling period can be missed. Each reading is a few small /proc
files, never a walk over every process of the machine. Where /proc is
missing (macOS, Windows) :meth:`ProcessTree.open` returns None: no figures.
"""

from __future__ import annotations

import contextlib
import os
import time

from .memory_cgroup import own_limit_headroom

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_REFRESH_CHILDREN = 0.3  # seconds between two looks for new child processes
_READ = 8192  # enough for /proc/PID/status, the longest file read here


class ProcessTree:
    """The kernel process *pid* and every process below it.

    The kernel's own /proc files are opened once and re-read in place
    (``pread`` at offset 0 re-generates them), so a cell boundary costs a few
    reads, not a few opens; an open file also stays bound to its process,
    never to a later one given the same pid. :meth:`close` releases them.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._children: list[int] = []
        self._children_at: float | None = None
        self._files: dict[str, int] = {}

    @classmethod
    def open(cls, pid: int | None) -> ProcessTree | None:
        """The tree of *pid* (None: no pid, or no /proc to read it from)."""
        if pid is None or not os.path.exists(f"/proc/{pid}/statm"):
            return None
        return cls(pid)

    def close(self) -> None:
        files, self._files = self._files, {}
        for descriptor in files.values():
            with contextlib.suppress(OSError):
                os.close(descriptor)

    def sample(self) -> int | None:
        """Resident bytes of the tree now (None: the kernel process is gone)."""
        kernel = _statm_rss(self._read("statm"))
        if kernel is None:
            return None
        now = time.monotonic()
        if self._children_at is None or now - self._children_at >= _REFRESH_CHILDREN:
            self._children, self._children_at = self.descendants(), now  # the tree changes rarely
        return kernel + sum(_rss(pid) or 0 for pid in self._children)

    def cpu_seconds(self) -> float | None:
        """CPU seconds the tree used so far: the kernel's, its reaped children's and its live ones' (None: gone).

        The live children are those the last look found (:meth:`sample` looks every few samples),
        so a cell boundary costs one read per process, not a walk of the tree.
        """
        kernel = _stat_cpu(self._read("stat"))
        if kernel is None:
            return None
        return kernel + sum(_cpu(pid) or 0.0 for pid in self._children)

    def descendants(self) -> list[int]:
        found: list[int] = []
        waiting = [self.pid]
        while waiting:
            parent = waiting.pop()
            with contextlib.suppress(OSError):
                for tid in os.listdir(f"/proc/{parent}/task"):
                    with contextlib.suppress(OSError, ValueError):
                        with open(f"/proc/{parent}/task/{tid}/children", "rb") as handle:
                            children = [int(word) for word in handle.read().split()]
                        found.extend(children)
                        waiting.extend(children)
        return found

    def reset_peak(self) -> bool:
        """Restart the kernel process's high-water mark (False where Linux cannot)."""
        try:
            os.write(self._descriptor("clear_refs", os.O_WRONLY), b"5")
            return True
        except OSError:
            return False

    def kernel_peak(self) -> int | None:
        """The kernel process's resident high-water mark since the last reset, in bytes (None: unknown)."""
        status = self._read("status")
        start = -1 if status is None else status.find(b"VmHWM:")
        if status is None or start < 0:
            return None
        with contextlib.suppress(ValueError, IndexError):
            return int(status[start + 6 : status.index(b"kB", start)]) * 1024
        return None

    def _read(self, name: str) -> bytes | None:
        try:
            return os.pread(self._descriptor(name, os.O_RDONLY), _READ, 0)
        except OSError:
            return None

    def _descriptor(self, name: str, mode: int) -> int:
        descriptor = self._files.get(name)
        if descriptor is None:
            descriptor = self._files[name] = os.open(f"/proc/{self.pid}/{name}", mode | os.O_CLOEXEC)
        return descriptor


def _rss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return _statm_rss(handle.read())
    except OSError:
        return None


def _cpu(pid: int) -> float | None:
    """CPU seconds of process *pid* and of the children it waited for."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return _stat_cpu(handle.read())
    except OSError:
        return None


def _statm_rss(statm: bytes | None) -> int | None:
    if not statm:
        return None
    try:
        return int(statm.split()[1]) * _PAGE
    except (ValueError, IndexError):
        return None


def _stat_cpu(stat: bytes | None) -> float | None:
    if not stat:
        return None
    try:
        fields = stat.rsplit(b")", 1)[1].split()
        ticks = sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime (fields 14-17 of proc(5))
    except (IndexError, ValueError):
        return None
    return ticks / _TICKS


def available_memory() -> int | None:
    """Bytes this machine (or the cgroup nbrun runs in) can still give, whichever is less (None: unknown)."""
    available = None
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    headroom = own_limit_headroom()
    if available is None or headroom is None:
        return available if headroom is None else headroom
    return min(available, headroom)
