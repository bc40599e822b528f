"""A kernel whose every message has the run's secrets replaced before the executor sees it.

One choke point: the cell runner, the outputs, widget state, stdin prompts,
``--log-output`` lines, error messages and the kernel's own log all read
the kernel through this wrapper, so none of them can hold a value.

A value split across two stream messages (ipykernel flushes at any byte)
would pass a per-message check, so a stream chunk's end that could begin a
secret is held back until the next message shows whether it does: the next
chunk of the same stream completes it or not, and any other message (the
cell's ``idle`` status included) or silence releases it first, in order.
"""

from __future__ import annotations

import copy
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import KernelStartError
from ..kernel.protocol import Kernel, Message
from ..options import ExecuteOptions
from ..secrets.redaction import Redactor

if TYPE_CHECKING:
    from ..kernel.starter import KernelStarter


def redacting_starter(start: KernelStarter, redactor: Redactor) -> KernelStarter:
    """*start*, with each kernel it gives wrapped (and a start error's kernel output redacted)."""

    async def start_redacting(kernel_name: str, cwd: Path, options: ExecuteOptions) -> Kernel:
        try:
            kernel = await start(kernel_name, cwd, options)
        except KernelStartError as exc:
            raise KernelStartError(redactor.text(str(exc), count=False)) from None
        return RedactingKernel(kernel, redactor)

    return start_redacting


class RedactingKernel:
    """*kernel* as the executor uses it, with *redactor* applied to all it sends."""

    def __init__(self, kernel: Kernel, redactor: Redactor) -> None:
        self._kernel = kernel
        self._redactor = redactor
        self._ready: deque[Message] = deque()
        self._held: dict[tuple[str, str], tuple[str, Message]] = {}  # (parent id, stream name) -> (text, its message)
        self.kernel_info = kernel.kernel_info

    def __getattr__(self, name: str) -> Any:
        """Everything that sends to the kernel or watches its process is the kernel's own (execute, interrupt, ...)."""
        return getattr(self._kernel, name)

    # -- what the kernel sends ---------------------------------------------

    async def get_iopub(self, timeout: float) -> Message | None:
        if not self._ready:
            msg = await self._kernel.get_iopub(timeout)
            if msg is None:
                self._release()  # silence: what was held goes out rather than wait
            else:
                self._take(msg)
        return self._ready.popleft() if self._ready else None

    async def get_shell(self, timeout: float) -> Message | None:
        return self._redacted(await self._kernel.get_shell(timeout))

    async def get_stdin(self, timeout: float) -> Message | None:
        return self._redacted(await self._kernel.get_stdin(timeout))

    def stderr_tail(self, lines: int = 20) -> str:
        return self._redactor.text(self._kernel.stderr_tail(lines), count=False)

    def stderr_text(self) -> str:
        return self._redactor.text(self._kernel.stderr_text(), count=False)

    def _redacted(self, msg: Message | None) -> Message | None:
        return None if msg is None else self._redact(msg)

    def _redact(self, msg: Message) -> Message:
        msg["content"] = self._redactor.data(msg.get("content", {}))
        if msg.get("buffers"):
            msg["buffers"] = [self._redactor.data(buffer) for buffer in msg["buffers"]]
        return msg

    def _take(self, msg: Message) -> None:
        content = msg.get("content")
        if msg.get("msg_type") != "stream" or not isinstance(content, dict) or not isinstance(content.get("text"), str):
            self._release()
            self._ready.append(self._redact(msg))
            return
        key = (str(msg.get("parent_header", {}).get("msg_id")), str(content.get("name")))
        self._release(but=key)
        held, _ = self._held.pop(key, ("", msg))
        text = self._redactor.text(held + content["text"])
        keep = self._redactor.unsafe_tail(text)
        if keep:
            self._held[key] = (text[-keep:], msg)
            text = text[:-keep]
        content["text"] = text  # even empty: every message the kernel numbered arrives (the gap check)
        self._ready.append(msg)

    def _release(self, but: tuple[str, str] | None = None) -> None:
        """Send the held stream ends (all, or all but the stream *but*) as they stand: no secret began there."""
        for key in [key for key in self._held if key != but]:
            text, msg = self._held.pop(key)
            released = copy.copy(msg)
            released["content"] = {**msg["content"], "text": text}
            self._ready.append(released)
