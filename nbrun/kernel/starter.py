"""The kernel seam: how an execution gets its kernel.

``NotebookExecution`` takes any ``KernelStarter``; ``start_local_kernel`` is
the default (jupyter_client), the fork server and the scripted fake kernel of
the unit tests are others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from ..options import ExecuteOptions
from .protocol import Kernel
from .session import KernelSession
from .spec_manager import SpecManager

KernelStarter = Callable[[str, Path, ExecuteOptions], Awaitable[Kernel]]


async def start_local_kernel(
    kernel_name: str, cwd: Path, options: ExecuteOptions, *, spec_manager: KernelSpecManager | None = None
) -> Kernel:
    """The default starter: a local kernel through jupyter_client (*spec_manager*: see KernelSession.start).

    With ``options.environment`` an ipykernel kernel runs on that environment's interpreter.
    """
    if options.environment is not None:
        spec_manager = InterpreterSpecManager(str(options.environment.python), spec_manager)
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


class InterpreterSpecManager(SpecManager):
    """Kernel specs whose ipykernel runs on another interpreter (a notebook's own environment).

    ``<python> -m ipykernel_launcher ...`` becomes ``<environment python> -m
    ipykernel_launcher ...``; any other kernel is left as its spec says. The
    specs come from *inner* when given (the fork provisioner's), else from
    jupyter_client's own folders.
    """

    def __init__(self, python: str, inner: KernelSpecManager | None = None) -> None:
        super().__init__()
        self.python = python
        self.inner = inner

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        spec = (
            self.inner.get_kernel_spec(kernel_name) if self.inner is not None else super().get_kernel_spec(kernel_name)
        )
        if len(spec.argv) >= 3 and spec.argv[1] == "-m" and spec.argv[2] in ("ipykernel_launcher", "ipykernel"):
            spec.argv = [self.python, *spec.argv[1:]]
        return spec
