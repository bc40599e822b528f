"""Which kernels are installed and what a kernel name resolves to, before any process starts."""

from __future__ import annotations

from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpec, KernelSpecManager, NoSuchKernel

from ..errors import NoSuchKernelError


def installed_kernels() -> list[str]:
    """Names of the kernels jupyter_client can find."""
    return sorted(KernelSpecManager().find_kernel_specs())


def kernel_spec(kernel_name: str, spec_manager: KernelSpecManager | None = None) -> KernelSpec:
    """The kernelspec a run of *kernel_name* starts (``python`` is the native kernel); NoSuchKernelError."""
    if kernel_name == "python":  # jupyter_client's alias for the native kernel
        kernel_name = NATIVE_KERNEL_NAME
    try:
        return (spec_manager or KernelSpecManager()).get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise NoSuchKernelError(kernel_name, installed_kernels()) from None


def kernel_language(kernel_name: str) -> str:
    """The language *kernel_name*'s kernelspec states, lower case ('' when unstated); NoSuchKernelError."""
    return str(kernel_spec(kernel_name).language or "").lower()
