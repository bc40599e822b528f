"""A run's side of the daemon: the template protocol over its Unix socket, and the fallback without it.

:class:`DaemonTemplate` is a fork template to the provisioner like the one a batch owns, but its
requests go to the daemon (started detached if none runs) and carry the key of the run's
environment (interpreter, preload, the variables that shape imports, the folders to watch).
Closing the connection ends its kernels. Standard library only: the CLI connects early.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import time
from typing import Any

from ..fork.forkserver import ForkServer, TemplateClient
from ..fork.templates import prelaunch
from .control import start_daemon
from .place import DaemonNotRunning, DaemonUnavailable, connect
from .templates import key_fields

log = logging.getLogger("nbrun")

_CONNECT_TIMEOUT = 10.0  # for a daemon just started to listen


def connect_or_start(idle_timeout: float | None = None) -> socket.socket:
    """Connect to the daemon, starting one first if none runs."""
    try:
        return connect()
    except DaemonNotRunning:
        pass
    start_daemon(idle_timeout)
    deadline = time.monotonic() + _CONNECT_TIMEOUT
    while True:  # another run may have won the start: its daemon is about to listen
        try:
            return connect()
        except DaemonNotRunning:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class DaemonTemplate(TemplateClient):
    """The daemon's template for this run's environment, through one connection (its kernels' lifetime)."""

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        super().__init__(preload)
        self._socket: socket.socket | None = None
        self._writer: asyncio.StreamWriter | None = None

    def launch(self) -> None:
        """Connect now (starting the daemon if none runs); DaemonUnavailable when it cannot be used."""
        if self._socket is None:
            self._socket = connect_or_start()

    async def _open(self) -> asyncio.StreamReader:
        self.launch()
        reader, self._writer = await asyncio.open_unix_connection(sock=self._socket, limit=1 << 20)
        return reader

    def _send(self, line: bytes) -> None:
        assert self._writer is not None
        self._writer.write(line)

    def _request_fields(self, spec_dir: str | None) -> dict[str, Any]:
        return key_fields(self.preload, spec_dir)

    def discard(self) -> None:
        connection, self._socket = self._socket, None
        if connection is not None and self._writer is None:
            connection.close()

    async def close(self) -> None:
        """Close the connection: the daemon ends any kernel of ours still running."""
        writer, self._writer = self._writer, None
        if writer is None:
            self.discard()
        else:  # the stream owns the socket now
            self._socket = None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await self._stop_pump()


def daemon_or_local(preload: tuple[str, ...]) -> TemplateClient:
    """The daemon's template, or (one notice line in the log) a template of this run as without the daemon."""
    daemon = DaemonTemplate(preload)
    try:
        daemon.launch()
    except DaemonUnavailable as exc:
        log.warning("the kernel daemon cannot be used (%s); forking kernels from this run's own template", exc)
        return ForkServer(sys.executable, preload)
    return daemon


def prelaunch_daemon(preload: tuple[str, ...] = ()) -> None:
    """Reach the daemon now (or start this run's own template); the batch's scope adopts it."""
    prelaunch(preload, daemon_or_local)
