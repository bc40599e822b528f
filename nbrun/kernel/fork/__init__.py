"""Fast kernel start (one package: template process, fork-server client, provisioner), entered through the
executor's kernel-starter seam.

Inside :func:`fork_server_scope` (a batch opens it), :func:`start_forked_kernel`
starts kernels whose spec names nbrun's fork provisioner
(``provisioner.ForkProvisioner``, registered as a jupyter_client entry point),
which forks them from the warm template of ``forkserver``/``_forkserver``.
Outside a scope, or for a kernel that is neither this interpreter's ipykernel
nor a notebook environment's, it is a normal launch. ``kernel.py`` knows nothing of this.
"""

from __future__ import annotations

from typing import Any

from .templates import current_templates, discard_prelaunched, fork_server_scope, prelaunch

__all__ = [
    "ForkSpecManager",
    "current_templates",
    "discard_prelaunched",
    "fork_server_scope",
    "prelaunch",
    "start_forked_kernel",
]


def __getattr__(name: str) -> Any:
    """``ForkSpecManager`` and ``start_forked_kernel`` load jupyter_client: imported when first used, not here."""
    if name in ("ForkSpecManager", "start_forked_kernel"):
        from . import starting

        return getattr(starting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
