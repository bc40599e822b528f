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

from .memory_cgroup import own_limit_headroom

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_REFRESH_CHILDREN = 3  # samples between two looks for new child processes


class ProcessTree:
    """The kernel process *pid* and every process below it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._children: list[int] = []
        self._samples = 0

    @classmethod
    def open(cls, pid: int | None) -> ProcessTree | None:
        """The tree of *pid* (None: no pid, or no /proc to read it from)."""
        if pid is None or not os.path.exists(f"/proc/{pid}/statm"):
            return None
        return cls(pid)

    def sample(self) -> int | None:
        """Resident bytes of the tree now (None: the kernel process is gone)."""
        kernel = _rss(self.pid)
        if kernel is None:
            return None
        if self._samples % _REFRESH_CHILDREN == 0:  # the tree changes rarely; its memory every time
            self._children = self.descendants()
        self._samples += 1
        return kernel + sum(_rss(pid) or 0 for pid in self._children)

    def cpu_seconds(self) -> float | None:
        """CPU seconds the tree used so far: the kernel's, its reaped children's and its live ones' (None: gone).

        The live children are those the last look found (:meth:`sample` looks every few samples),
        so a cell boundary costs one file per process, not a walk of the tree.
        """
        kernel = _cpu(self.pid)
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
                        with open(f"/proc/{parent}/task/{tid}/children") as handle:
                            children = [int(word) for word in handle.read().split()]
                        found.extend(children)
                        waiting.extend(children)
        return found

    def reset_peak(self) -> bool:
        """Restart the kernel process's high-water mark (False where Linux cannot)."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as handle:
                handle.write("5")
            return True
        except OSError:
            return False

    def kernel_peak(self) -> int | None:
        """The kernel process's resident high-water mark since the last reset, in bytes (None: unknown)."""
        with contextlib.suppress(OSError, ValueError):
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        return None


def _rss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _cpu(pid: int) -> float | None:
    """CPU seconds of process *pid* and of the children it waited for."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime (fields 14-17 of proc(5))
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
