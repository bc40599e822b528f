"""The kernel daemon (opt-in): warm fork templates that outlive the command, behind a Unix socket.

``nbrun daemon start`` (or ``nbrun run --daemon``) runs :mod:`.server` detached; it keeps one
template per kernel environment (:mod:`.templates`) and forks a fresh kernel for each run that
asks over the socket (:mod:`.client`, the template protocol of ``fork/_forkserver.py`` plus the
environment's key). :mod:`.place` finds the socket and refuses one that is not the user's own.
Nothing requires the daemon: a run that cannot reach it forks from its own template, as without it.
The client side imports only the standard library (the CLI's fast start path).
"""

from __future__ import annotations

from .client import DaemonTemplate, daemon_or_local, prelaunch_daemon
from .control import DaemonStatus, daemon_status, start_daemon, stop_daemon, warm_daemon
from .place import DEFAULT_IDLE_TIMEOUT, DaemonUnavailable, socket_path

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "DaemonStatus",
    "DaemonTemplate",
    "DaemonUnavailable",
    "daemon_or_local",
    "daemon_status",
    "prelaunch_daemon",
    "socket_path",
    "start_daemon",
    "stop_daemon",
    "warm_daemon",
]
