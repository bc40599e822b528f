"""The kernel seam: how an execution gets its kernel.

``NotebookExecution`` takes any ``KernelStarter``; ``start_local_kernel`` is
the default (jupyter_client), the fork server and the scripted fake kernel of
the unit tests are others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager

from ..options import ExecuteOptions
from .protocol import Kernel
from .session import KernelSession

KernelStarter = Callable[[str, Path, ExecuteOptions], Awaitable[Kernel]]


async def start_local_kernel(
    kernel_name: str, cwd: Path, options: ExecuteOptions, *, spec_manager: KernelSpecManager | None = None
) -> Kernel:
    """The default starter: a local kernel through jupyter_client (*spec_manager*: see KernelSession.start)."""
    session = await KernelSession.start(
        kernel_name,
        cwd,
        startup_timeout=options.startup_timeout,
        extra_args=options.extra_kernel_args,
        transport=options.transport,
        spec_manager=spec_manager,
        env=options.secrets.environment(),
    )
    # JSON escapes make the encoded text up to ~2x longer; past this, nothing more could be kept
    session.max_message_bytes = 2 * options.max_output_bytes + 65536
    return session
