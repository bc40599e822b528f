"""jupyter_client's spec manager, told where the kernelspecs are instead of asking IPython.

Left to find its folders itself, jupyter_client's ``KernelSpecManager``
imports IPython (about 0.2 s, with jedi and prompt_toolkit) only to name
``~/.ipython/kernels``; ``spec_files.kernel_dirs`` names the same folders in
the same order without it. Every spec manager nbrun starts kernels with
derives from this one.
"""

from __future__ import annotations

from jupyter_client.kernelspec import KernelSpecManager
from traitlets import default

from .spec_files import kernel_dirs


class SpecManager(KernelSpecManager):
    """``KernelSpecManager`` whose default folders come from ``spec_files.kernel_dirs``."""

    @default("kernel_dirs")
    def _folders_without_ipython(self) -> list[str]:
        return [str(folder) for folder in kernel_dirs()]
