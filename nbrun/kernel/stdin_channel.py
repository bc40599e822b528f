"""The stdin channel, connected before any cell can ask for input.

A kernel's stdin socket is a ROUTER: it drops an ``input_request`` for a
client whose connection it has not seen yet. jupyter_client connects its
stdin channel without waiting, so an ``input()`` in the first cell can be
lost and the kernel then waits forever. This channel watches its own socket
and reports when the ZMTP handshake with the kernel has completed.
"""

from __future__ import annotations

from typing import Any

import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

from .protocol import Message


def stdin_url(info: dict[str, Any]) -> str:
    """The stdin socket's address from ``client.get_connection_info()`` (tcp or ipc transport)."""
    if info.get("transport", "tcp") == "ipc":
        return f"ipc://{info['ip']}-{info['stdin_port']}"
    return f"tcp://{info['ip']}:{info['stdin_port']}"


class StdinChannel:
    """A DEALER on the kernel's stdin port with the client's identity."""

    def __init__(self, client: Any) -> None:
        self._session = client.session
        context: zmq.asyncio.Context = client.context
        self._socket = context.socket(zmq.DEALER)
        self._socket.linger = 0
        self._socket.identity = self._session.bsession
        self._monitor = self._socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        self._socket.connect(stdin_url(client.get_connection_info()))
        self.connected = False

    async def wait_connected(self, timeout: float) -> bool:
        """True once the kernel has accepted this connection (bounded wait)."""
        if not self.connected and await self._monitor.poll(int(timeout * 1000)):
            event = parse_monitor_message(await self._monitor.recv_multipart())
            self.connected = event["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED
        return self.connected

    async def get(self, timeout: float) -> Message | None:
        """The next message from the kernel (an ``input_request``), or None."""
        if not await self._socket.poll(int(timeout * 1000)):
            return None
        frames = await self._socket.recv_multipart(copy=False)
        _, message_frames = self._session.feed_identities(frames, copy=False)
        msg: Message = self._session.deserialize(message_frames, content=True, copy=False)
        return msg

    def reply(self, value: str, parent: Message | None = None) -> None:
        self._session.send(self._socket, "input_reply", {"value": value}, parent=parent)

    def close(self) -> None:
        try:
            self._socket.disable_monitor()
        except zmq.ZMQError:
            pass
        self._monitor.close(linger=0)
        self._socket.close(linger=0)
