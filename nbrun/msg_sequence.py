"""Finding IOPub messages that were lost, from the kernel's numbered message ids.

A kernel's IOPub publisher drops messages when nbrun's side falls behind (its
high-water mark), silently. The Jupyter protocol has no sequence numbers, but
kernels built on jupyter_client's ``Session`` (ipykernel and its relatives)
number every message they create: ``<session>_<pid>_<n>``, one counter for
all channels. Every number between a cell's ``busy`` and ``idle`` statuses
belongs to a message nbrun receives (IOPub or the shell reply), so a number
never seen there is a lost message. Kernels with other ids are not checked.
"""

from __future__ import annotations

import re
from typing import Any

_NUMBERED = re.compile(r"^(.+_\d+)_(\d+)$")


def message_number(msg: dict[str, Any]) -> tuple[str, int] | None:
    """``(prefix, n)`` of a jupyter_client-style msg_id, else None."""
    msg_id = msg.get("header", {}).get("msg_id")
    if not isinstance(msg_id, str):
        return None
    match = _NUMBERED.match(msg_id)
    return (match.group(1), int(match.group(2))) if match else None


class SequenceWatch:
    """Message numbers seen during one cell, on every channel nbrun reads."""

    def __init__(self) -> None:
        self._prefix: str | None = None
        self._seen: set[int] = set()
        self._busy: int | None = None
        self._idle: int | None = None

    def observe(self, msg: dict[str, Any]) -> None:
        """Note a received message (any parent, any channel)."""
        number = message_number(msg)
        if number is None:
            return
        prefix, n = number
        if self._prefix is None:
            self._prefix = prefix
        if prefix == self._prefix:
            self._seen.add(n)

    def mark(self, msg: dict[str, Any], state: str) -> None:
        """Remember the number of the cell's own ``busy`` or ``idle`` status."""
        number = message_number(msg)
        if number is None or (self._prefix is not None and number[0] != self._prefix):
            return
        if state == "busy":
            self._busy = number[1]
        elif state == "idle":
            self._idle = number[1]

    def lost(self) -> int:
        """How many numbers between busy and idle never arrived (0 when unknown)."""
        if self._busy is None or self._idle is None or self._idle <= self._busy:
            return 0
        expected = self._idle - self._busy + 1
        seen = sum(1 for n in self._seen if self._busy <= n <= self._idle)
        return max(expected - seen, 0)
