"""Starting a kernel through the fork provisioner (jupyter_client): the heavy half of fast start."""

from __future__ import annotations

from pathlib import Path

from jupyter_client.kernelspec import KernelSpec

from ...options import ExecuteOptions
from ..protocol import Kernel
from ..spec_manager import SpecManager
from ..starter import start_local_kernel
from .provisioner import PROVISIONER_NAME, provisioner_installed
from .templates import current_templates


class ForkSpecManager(SpecManager):
    """Kernel specs naming the fork provisioner, through the spec metadata jupyter_client documents.

    The specs are built here (jupyter_client's ``kernel_spec_manager`` trait);
    nothing jupyter_client cached is edited.
    """

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        spec = super().get_kernel_spec(kernel_name)
        spec.metadata = {**spec.metadata, "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME}}
        return spec


async def start_forked_kernel(kernel_name: str, cwd: Path, options: ExecuteOptions) -> Kernel:
    """A ``KernelStarter``: fork from the scope's template for the kernel's interpreter, else launch normally.

    A notebook's own environment (``options.environment``) gets a template of its own interpreter.
    """
    templates = current_templates()
    forked = templates is not None and provisioner_installed()
    if templates is not None and options.environment is not None:
        templates.allow(str(options.environment.python))
    return await start_local_kernel(kernel_name, cwd, options, spec_manager=ForkSpecManager() if forked else None)
