"""How nbrun talks to a kernel: IPC or TCP sockets, and a receive side that never drops."""

from __future__ import annotations

import sys
from typing import Any

import zmq


def start_channels_without_drops(client: Any) -> None:
    """Start the channels with no receive high-water mark on our side.

    A publisher drops messages (even ``idle``) once the subscriber's queue is
    full; with no limit here, zmq's I/O thread keeps draining the kernel while
    nbrun catches up, so a burst of small messages is queued, not lost.
    """
    context = client.context
    context.setsockopt(zmq.RCVHWM, 0)
    try:
        client.start_channels(hb=False, stdin=False)
    finally:
        context.sockopts.pop(zmq.RCVHWM, None)


TRANSPORTS = ("auto", "ipc", "tcp")


def choose_transport(requested: str, argv: list[str]) -> str:
    """``ipc`` or ``tcp`` for a kernel started with *argv* (see KernelSession.start)."""
    if requested not in TRANSPORTS:
        raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {requested!r}")
    if sys.platform == "win32":
        return "tcp"
    if requested != "auto":
        return requested
    return "ipc" if any("ipykernel" in part for part in argv) else "tcp"
