"""Fast kernel start (one package: template process, fork-server client, provisioner), entered through the
executor's kernel-starter seam.

Inside :func:`fork_server_scope` (a batch opens it), :func:`start_forked_kernel`
starts kernels whose spec names nbrun's fork provisioner
(``provisioner.ForkProvisioner``, registered as a jupyter_client entry point),
which forks them from the warm template of ``forkserver``/``_forkserver``.
Outside a scope, or for a kernel that is not this interpreter's ipykernel,
it is a normal launch. ``kernel.py`` knows nothing of this.
"""

from __future__ import annotations

from pathlib import Path

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from ...options import ExecuteOptions
from ..protocol import Kernel
from ..starter import start_local_kernel
from .forkserver import current_server, discard_prelaunched, fork_server_scope, prelaunch
from .provisioner import PROVISIONER_NAME, provisioner_installed

__all__ = ["ForkSpecManager", "discard_prelaunched", "fork_server_scope", "prelaunch", "start_forked_kernel"]


class ForkSpecManager(KernelSpecManager):
    """Kernel specs naming the fork provisioner, through the spec metadata jupyter_client documents.

    The specs are built here (jupyter_client's ``kernel_spec_manager`` trait);
    nothing jupyter_client cached is edited.
    """

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        spec = super().get_kernel_spec(kernel_name)
        spec.metadata = {**spec.metadata, "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME}}
        return spec


async def start_forked_kernel(kernel_name: str, cwd: Path, options: ExecuteOptions) -> Kernel:
    """A ``KernelStarter``: fork from the scope's template when there is one, else launch normally."""
    forked = current_server() is not None and provisioner_installed()
    return await start_local_kernel(kernel_name, cwd, options, spec_manager=ForkSpecManager() if forked else None)
