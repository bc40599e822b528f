"""Where a run gets its kernel and where it hands it back, as one value.

A batch, ``nbrun check`` and the pytest plugin each own a scope in which
kernels are started (forked from one warm template when fast start is on) and
shut down in the background (the reaper, waited for when the scope ends).
They make one :class:`KernelSupply` for that scope and pass it down whole, so
the pipeline, the executor and the cell runner never thread its parts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .daemon.client import daemon_or_local
from .fork.templates import fork_server_scope, local_template
from .protocol import Kernel, Reaper

if TYPE_CHECKING:
    from pathlib import Path

    from ..options import ExecuteOptions
    from .starter import KernelStarter

ReadyGate = Callable[[], AbstractAsyncContextManager[Any]]


async def start_local(kernel_name: str, cwd: Path, options: ExecuteOptions) -> Kernel:
    """``starter.start_local_kernel``, imported at the first start: a run replayed from the cache loads no kernel code."""
    from .starter import start_local_kernel

    return await start_local_kernel(kernel_name, cwd, options)


async def start_forked(kernel_name: str, cwd: Path, options: ExecuteOptions) -> Kernel:
    """``fork.starting.start_forked_kernel``, imported at the first start (see :func:`start_local`)."""
    from .fork.starting import start_forked_kernel

    return await start_forked_kernel(kernel_name, cwd, options)


@dataclass(frozen=True)
class KernelSupply:
    """How kernels are started (*start*), when a started one may run (*ready_gate*) and who shuts it down.

    *ready_gate* makes a context entered once the kernel is up and left when
    the notebook is done (a batch's concurrency slot); *reaper* takes the
    finished kernel to shut it down in the background. The default starts a
    local kernel and waits for it to exit.
    """

    start: KernelStarter = start_local
    ready_gate: ReadyGate | None = None
    reaper: Reaper | None = None

    def gated(self, ready_gate: ReadyGate) -> KernelSupply:
        """This supply, with kernels waiting at *ready_gate* before their first cell."""
        return replace(self, ready_gate=ready_gate)


@contextlib.asynccontextmanager
async def kernel_supply(
    fast_start: bool, preload: tuple[str, ...] = (), daemon: bool = False
) -> AsyncIterator[KernelSupply]:
    """The supply of one scope: forked kernels when *fast_start*, every kernel shut down before it ends.

    With *daemon*, kernels fork from the kernel daemon's warm template (started if none runs), or
    from this scope's own template when the daemon cannot be used.
    """
    reaper = Reaper()
    async with fork_server_scope(fast_start, preload, daemon_or_local if daemon else local_template):
        try:
            yield KernelSupply(start_forked if fast_start else start_local, None, reaper)
        finally:
            await reaper.wait()
