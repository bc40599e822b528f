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
        self._stopped: asyncio.Future[None] | None = None

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
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)

    async def wait(self) -> None:
        """Return once a stop has been requested."""
        await self._ensure_event().wait()

    def stopped(self) -> asyncio.Future[None]:
        """A future done once a stop has been requested, shared by every cell of the running loop.

        One future for the whole run, not a task per cell: a task costs the
        loop a start and a cancellation at every cell.
        """
        loop = asyncio.get_running_loop()
        if self._stopped is None or self._stopped.get_loop() is not loop:
            self._stopped = loop.create_future()
            if self.reason is not None:
                self._stopped.set_result(None)
        return self._stopped
