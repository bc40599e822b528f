"""Which kernels are installed and what a kernel name resolves to, before any process starts.

Names and languages come from the spec files (``spec_files``, no jupyter_client);
:func:`kernel_spec` gives jupyter_client's own ``KernelSpec``, which only a kernel start needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import NoSuchKernelError
from .spec_files import NATIVE_KERNEL_NAME, find_spec, find_spec_dirs

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager


def installed_kernels() -> list[str]:
    """Names of the kernels jupyter_client can find."""
    return sorted(find_spec_dirs())


def kernel_spec(kernel_name: str, spec_manager: KernelSpecManager | None = None) -> KernelSpec:
    """The kernelspec a run of *kernel_name* starts (``python`` is the native kernel); NoSuchKernelError."""
    from jupyter_client.kernelspec import NoSuchKernel

    from .spec_manager import SpecManager

    if kernel_name == "python":  # jupyter_client's alias for the native kernel
        kernel_name = NATIVE_KERNEL_NAME
    try:
        return (spec_manager or SpecManager()).get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise NoSuchKernelError(kernel_name, installed_kernels()) from None


def kernel_language(kernel_name: str) -> str:
    """The language *kernel_name*'s kernelspec states, lower case ('' when unstated); NoSuchKernelError."""
    spec = find_spec(kernel_name)
    if spec is None:
        raise NoSuchKernelError(kernel_name, installed_kernels())
    return spec.language
