"""A jupyter_client kernel provisioner that launches through the fork server."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from importlib.metadata import entry_points
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from .templates import current_templates

log = logging.getLogger("nbrun")

PROVISIONER_NAME = "nbrun-fork"


@functools.lru_cache(maxsize=1)
def provisioner_installed() -> bool:
    """True when the ``nbrun-fork`` entry point is registered (nbrun is installed)."""
    return any(ep.name == PROVISIONER_NAME for ep in entry_points(group="jupyter_client.kernel_provisioners"))


class ForkProvisioner(LocalProvisioner):
    """Launches through the current fork server when it can, else like LocalProvisioner."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        templates = current_templates()
        server = templates.server_for(cmd) if templates is not None else None
        if server is None:
            return await super().launch_kernel(cmd, **kwargs)
        log_file = kwargs.get("stdout")
        log_path = getattr(log_file, "name", os.devnull)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = kwargs.get("env") or dict(os.environ)
        try:
            spec_dir = getattr(self.kernel_spec, "resource_dir", None)  # the daemon watches it for changes
            process = await server.spawn(cmd[3:], cwd, env, str(log_path), spec_dir)
        except (OSError, asyncio.TimeoutError) as exc:
            log.warning("fast kernel start unavailable (%s); using a normal launch", exc)
            return await super().launch_kernel(cmd, **kwargs)
        self.process = process  # type: ignore[assignment]  # a Popen-like handle on the forked kernel
        self.pid = process.pid
        self.pgid = process.pid  # the child called setsid()
        self.cwd = cwd
        return self.connection_info
