"""Kernel side: ipykernel's IOPub socket made to queue, never drop, when nbrun reads slowly.

ipykernel publishes on a zmq ``XPUB`` socket with the default send
high-water mark (1000 messages). When nbrun falls behind (a burst of 100k
displays on a loaded machine), the publisher silently drops what does not
fit, ``idle`` included. nbrun's own side already queues without limit; this
removes the limit on the kernel's side too, so a burst costs memory in the
kernel for a moment instead of outputs.

nbrun passes this file to ipykernel as an extra config file
(``--IPKernelApp.extra_config_file``), which IPython executes before it creates
its sockets; forked kernels receive the same argument. It imports nothing
from nbrun, so it works in any environment that has ipykernel.
"""

from __future__ import annotations

from typing import Any

_MARK = "_nbrun_never_drop"


def install() -> None:
    """Give the next IOPub socket ipykernel creates no send high-water mark (idempotent)."""
    import zmq
    from ipykernel.kernelapp import IPKernelApp

    original: Any = IPKernelApp.init_iopub  # ipykernel ships no types
    if getattr(original, _MARK, False):
        return

    def init_iopub(self: Any, context: Any) -> Any:
        context.setsockopt(zmq.SNDHWM, 0)  # the default for sockets this context creates from now on
        try:
            return original(self, context)
        finally:
            context.sockopts.pop(zmq.SNDHWM, None)

    setattr(init_iopub, _MARK, True)
    IPKernelApp.init_iopub = init_iopub  # type: ignore[method-assign]


if "get_config" in globals():  # executed by IPython as a config file
    install()
