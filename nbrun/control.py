"""Stopping a run from outside (a signal handler, another task)."""

from __future__ import annotations

import asyncio


class RunControl:
    """Lets a caller stop running notebooks.

    The first :meth:`request_stop` interrupts the running cell and stops the
    run after it; a second one (``force``) kills the kernel at once. The
    partial notebook is kept either way.
    """

    def __init__(self) -> None:
        self.reason: str | None = None
        self.forced = False
        self._event: asyncio.Event | None = None

    def _ensure_event(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
            if self.reason is not None:
                self._event.set()
        return self._event

    @property
    def stop_requested(self) -> bool:
        return self.reason is not None

    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask to stop; a repeated request forces an immediate kill."""
        if self.reason is not None:
            self.forced = True
        else:
            self.reason = reason
        if self._event is not None:
            self._event.set()

    async def wait(self) -> None:
        """Return once a stop has been requested."""
        await self._ensure_event().wait()
