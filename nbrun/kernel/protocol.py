"""The kernel protocol as the I/O-free modules see it (no jupyter_client here).

``Message`` is a decoded Jupyter message, ``KernelExit`` how a kernel process
ended, ``KernelLike`` what running a cell needs from a kernel and ``Kernel``
what a whole notebook run needs (``kernel.KernelSession`` implements it; so
does the scripted fake in the tests); ``Reaper`` collects kernels closed in
the background. ``outputs``, ``cell_runner`` and
``cell_record`` import from here, never from ``kernel``.
"""

from __future__ import annotations

import asyncio
import datetime
import re
import signal
from typing import Any, Protocol

Message = dict[str, Any]

# Set by ``iopub`` on a stream message whose text was only partly decoded.
DROPPED_KEY = "nbrun_dropped_bytes"
# Set on the stand-in for a message that arrived but could not be decoded (its value: why).
UNDECODABLE_KEY = "nbrun_undecodable"


_ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")


def utc_now() -> str:
    """Now as Jupyter's ISO string (UTC, ``Z``)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def message_time(msg: Message) -> str | None:
    """The message header's date as Jupyter's ISO string (UTC, ``Z``).

    Headers nbrun decodes itself (IOPub, shell replies) keep the string the kernel sent; one in another ISO form (an
    offset, milliseconds, no zone: local time, as jupyter_client reads it) is
    written the usual way.
    """
    date = msg.get("header", {}).get("date")
    if isinstance(date, str) and not _ISO_UTC.fullmatch(date):
        try:
            date = datetime.datetime.fromisoformat(date)
        except ValueError:
            pass
        else:
            if date.tzinfo is None:
                date = date.astimezone()
    if isinstance(date, datetime.datetime):
        if date.tzinfo is None:
            date = date.replace(tzinfo=datetime.timezone.utc)
        return date.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(date, str) and date:
        return date
    return None


class KernelExit:
    """How a kernel process ended."""

    def __init__(self, returncode: int | None) -> None:
        self.returncode = returncode

    def __repr__(self) -> str:
        return f"KernelExit({self.returncode!r})"

    @property
    def signal_name(self) -> str | None:
        if self.returncode is not None and self.returncode < 0:
            try:
                return signal.Signals(-self.returncode).name
            except ValueError:
                return f"signal {-self.returncode}"
        return None

    def describe(self) -> str:
        """A short human reason, with a likely cause where one can be told."""
        if self.returncode is None:
            return "the kernel process ended (exit status unknown)"
        name = self.signal_name
        if name == "SIGKILL":
            return "killed by SIGKILL (possibly out of memory)"
        if name == "SIGSEGV":
            return "crashed with SIGSEGV (segmentation fault in native code)"
        if name is not None:
            return f"killed by {name}"
        return f"exited with code {self.returncode}"


class Reaper:
    """Kernels being shut down in the background; owned by whoever must wait for them (a batch)."""

    def __init__(self) -> None:
        self._pending: set[asyncio.Future[None]] = set()

    def add(self, task: asyncio.Future[None]) -> None:
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def wait(self) -> None:
        """Wait until every kernel handed over has exited."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


class KernelLike(Protocol):
    """What running a cell needs from a kernel (the real one or a test fake)."""

    def execute(
        self,
        code: str,
        *,
        stop_on_error: bool,
        allow_stdin: bool,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        silent: bool = False,
    ) -> str: ...
    def probe(self) -> str:
        """Send a kernel_info_request; return its msg_id.

        Its ``busy`` status comes on IOPub after everything the kernel
        published before it, so its arrival proves what did not arrive was lost.
        """
        ...

    async def get_iopub(self, timeout: float) -> Message | None: ...
    async def get_shell(self, timeout: float) -> Message | None: ...
    async def get_stdin(self, timeout: float) -> Message | None: ...
    def input_reply(self, value: str) -> None: ...
    async def poll_exit(self) -> KernelExit | None: ...
    async def interrupt(self) -> None: ...
    async def kill(self) -> None: ...


class Kernel(KernelLike, Protocol):
    """A started kernel as a notebook run uses it."""

    kernel_info: dict[str, Any]

    async def close(self, grace: float = 1.0) -> KernelExit: ...
    def close_in_background(self, reaper: Reaper, grace: float = 0.5) -> None: ...
    def stderr_tail(self, lines: int = 20) -> str: ...
    def stderr_text(self) -> str: ...
