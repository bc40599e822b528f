"""Memory and CPU of a notebook's kernel, per cell, and the memory limit enforced on it.

One :class:`ResourceWatch` per notebook run samples the kernel's process
tree (``kernel.resources``) every :data:`SAMPLE_SECONDS` while the kernel
is attached. A cell's peak is the largest of its samples and the kernel
process's exact high-water mark over the cell; its CPU time is what the tree
used between the cell's start and end. With a limit, the kernel gets a
cgroup where nbrun can make one (``kernel.memory_cgroup``: the operating
system then ends it at the limit); elsewhere the sampler interrupts the
kernel once the tree is over the limit and kills it after the grace.
Kernels without a process nbrun can read (a fake, a remote one) give no figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

from ..kernel.memory_cgroup import MemoryLimitGroup, oom_killed_in_log, own_oom_kills
from ..kernel.protocol import KernelExit, KernelLike, Reaper
from ..kernel.resources import ProcessTree
from ..units import format_size

SAMPLE_SECONDS = 0.1
_CLEANUP_SECONDS = 30.0  # how long a limit's cgroup waits for its processes to be gone


@dataclass(frozen=True)
class CellUse:
    """What one cell used: peak resident bytes and CPU seconds (None: not measured); *over_limit*: it tripped."""

    peak_memory: int | None
    cpu_time: float | None
    over_limit: bool = False


class ResourceWatch:
    """Samples one notebook's kernel; ``limit`` in bytes (None: measure only)."""

    def __init__(self, limit: int | None, grace: float, reaper: Reaper | None = None) -> None:
        self.limit = limit
        self.grace = grace
        self.enforced_by: str | None = None  # "cgroup" or "sampler" once a kernel with a limit is attached
        self._reaper = reaper
        self._kernel: KernelLike | None = None
        self._tree: ProcessTree | None = None
        self._group: MemoryLimitGroup | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._own_kills = 0
        self._in_cell = False
        self._cell_peak = 0
        self._cell_cpu: float | None = None
        self._tripped_at: float | None = None
        self._killing = False

    def attach(self, kernel: Any) -> None:
        """Watch *kernel* (a fresh one after a restart replaces the last)."""
        self._kernel = kernel
        if self._tree is not None:
            self._tree.close()
        self._tree = ProcessTree.open(getattr(kernel, "pid", None))
        if self._tree is None:
            return
        self._own_kills = own_oom_kills()
        if self.limit is not None:
            self._group = MemoryLimitGroup.create(self._tree.pid, self.limit)
            self.enforced_by = "cgroup" if self._group is not None else "sampler"
        self._sampler = asyncio.ensure_future(self._sample_forever())

    def cell_started(self) -> None:
        self._in_cell, self._cell_peak, self._tripped_at, self._killing = True, 0, None, False
        if self._tree is not None:
            self._tree.reset_peak()  # the kernel's own peak from here on is exact; children come with the samples
            self._cell_cpu = self._tree.cpu_seconds()

    def cell_finished(self) -> CellUse:
        """The figures of the cell that just ended (call once per :meth:`cell_started`)."""
        self._in_cell = False
        if self._tree is None:
            return CellUse(None, None)
        self._take_sample()
        kernel_peak = self._tree.kernel_peak()
        peak = max(self._cell_peak, kernel_peak or 0)
        if self._group is not None and self._group.oom_kills():
            peak = max(peak, self._group.peak() or 0)  # the tree was stopped at the limit: its last reading
        cpu_now = self._tree.cpu_seconds()
        cpu = None if cpu_now is None or self._cell_cpu is None else max(round(cpu_now - self._cell_cpu, 3), 0.0)
        return CellUse(peak or None, cpu, over_limit=self._tripped_at is not None)

    def out_of_memory_note(self, use: CellUse, kernel_exit: KernelExit | None) -> str | None:
        """Why the cell that just ended ran out of memory (None: it did not): over the limit, or the OOM killer."""
        if not use.over_limit and not self.killed_by_oom(kernel_exit):
            return None
        peak = f"peak {format_size(use.peak_memory)}" if use.peak_memory else "peak unknown"
        if self.limit is None:
            return f"ran out of memory: the system's OOM killer ended the kernel ({peak})"
        limit = format_size(self.limit)
        if self.enforced_by == "cgroup":
            return f"ran out of memory: the kernel reached the limit of {limit} (--max-memory) and the system ended it ({peak})"
        stopped = "interrupted, then killed" if kernel_exit is not None else "interrupted"
        return f"ran out of memory: {peak}, over the limit of {limit} (--max-memory); the kernel was {stopped}"

    def killed_by_oom(self, exit_status: KernelExit | None) -> bool:
        """The kernel ended by SIGKILL, and its cgroup, nbrun's cgroup or the kernel log says the OOM killer did it."""
        if exit_status is None or exit_status.signal_name != "SIGKILL" or self._tree is None:
            return False
        if self._group is not None and self._group.oom_kills():
            return True
        return own_oom_kills() > self._own_kills or oom_killed_in_log(self._tree.pid)

    async def detach(self) -> None:
        """Stop sampling; the limit's cgroup is removed once the kernel's processes are gone."""
        sampler, self._sampler = self._sampler, None
        if sampler is not None:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        group, self._group = self._group, None
        if self._tree is not None:
            self._tree.close()
        self._tree = None
        if group is not None:
            cleanup = asyncio.ensure_future(_remove_when_empty(group))
            if self._reaper is not None:
                self._reaper.add(cleanup)

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            if not self._take_sample():
                return

    def _take_sample(self) -> bool:
        rss = self._tree.sample() if self._tree is not None else None
        if rss is None:
            return False
        if self._in_cell:
            self._cell_peak = max(self._cell_peak, rss)
            self._enforce(rss)
        return True

    def _enforce(self, rss: int) -> None:
        """Over the limit without a cgroup: interrupt the kernel, and kill it if the grace passes."""
        if self.limit is None or self._group is not None or self._kernel is None:
            return
        now = time.monotonic()
        if self._tripped_at is None and rss > self.limit:
            self._tripped_at = now
            asyncio.ensure_future(self._kernel.interrupt())
        elif self._tripped_at is not None and not self._killing and now - self._tripped_at >= self.grace:
            self._killing = True
            asyncio.ensure_future(self._kernel.kill())


async def _remove_when_empty(group: MemoryLimitGroup) -> None:
    deadline = time.monotonic() + _CLEANUP_SECONDS
    while group.path.exists() and time.monotonic() < deadline:
        group.close()
        if group.path.exists():
            await asyncio.sleep(0.1)
