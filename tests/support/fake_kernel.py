"""A small scripted kernel for message-handling unit tests (no real process).

Each ``execute`` call plays the next ``Script``: IOPub messages and the shell
reply are queued with optional delays, so ordering and timing cases (idle
before reply, silence, death) can be staged exactly.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
from dataclasses import dataclass, field
from typing import Any

from nbrun.kernel.protocol import KernelExit

Message = dict[str, Any]
_ids = itertools.count(1)


def message(msg_type: str, content: dict[str, Any], parent: str, buffers: list[bytes] | None = None) -> Message:
    """A message shaped as jupyter_client delivers it."""
    return {
        "header": {
            "msg_id": f"m{next(_ids)}",
            "msg_type": msg_type,
            "date": datetime.datetime.now(datetime.timezone.utc),
        },
        "parent_header": {"msg_id": parent},
        "msg_type": msg_type,
        "content": content,
        "metadata": {},
        "buffers": buffers or [],
    }


@dataclass
class Step:
    """One thing the fake kernel does: publish on a channel after a delay."""

    channel: str  # "iopub", "shell", "stdin", "die" or "hang"
    msg_type: str = ""
    content: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0


def stream(text: str, name: str = "stdout") -> Step:
    return Step("iopub", "stream", {"name": name, "text": text})


def display(data: dict[str, Any], display_id: str | None = None, update: bool = False) -> Step:
    content: dict[str, Any] = {"data": data, "metadata": {}}
    if display_id:
        content["transient"] = {"display_id": display_id}
    return Step("iopub", "update_display_data" if update else "display_data", content)


def busy() -> Step:
    return Step("iopub", "status", {"execution_state": "busy"})


def idle(delay: float = 0.0) -> Step:
    return Step("iopub", "status", {"execution_state": "idle"}, delay)


def reply(status: str = "ok", count: int = 1, delay: float = 0.0, **extra: Any) -> Step:
    return Step("shell", "execute_reply", {"status": status, "execution_count": count, **extra}, delay)


def ok_cell(*middle: Step, count: int = 1) -> list[Step]:
    """busy, execute_input, *middle, reply, idle: the usual order."""
    return [
        busy(),
        Step("iopub", "execute_input", {"execution_count": count, "code": ""}),
        *middle,
        reply(count=count),
        idle(),
    ]


class FakeKernel:
    """Implements the executor's kernel interface from scripts."""

    def __init__(self, *scripts: list[Step]) -> None:
        self.scripts = list(scripts)
        self.sent: list[str] = []
        self.interrupts = 0
        self.killed = False
        self.closed = False
        self.kernel_info: dict[str, Any] = {"language_info": {"name": "python", "version": "3"}}
        self._iopub: asyncio.Queue[Message] = asyncio.Queue()
        self._shell: asyncio.Queue[Message] = asyncio.Queue()
        self._stdin: asyncio.Queue[Message] = asyncio.Queue()
        self.input_replies: list[str] = []
        self._exit: KernelExit | None = None
        self._player: asyncio.Task[None] | None = None
        self.probes: list[str] = []

    def execute(
        self,
        code: str,
        *,
        stop_on_error: bool,
        allow_stdin: bool,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        silent: bool = False,
    ) -> str:
        self.sent.append(code)
        parent = f"exec{len(self.sent)}"
        script = self.scripts.pop(0) if self.scripts else ok_cell(count=len(self.sent))
        self._player = asyncio.ensure_future(self._play(script, parent))
        return parent

    async def _play(self, script: list[Step], parent: str) -> None:
        for step in script:
            if step.delay:
                await asyncio.sleep(step.delay)
            if step.channel == "die":
                self._exit = KernelExit(step.content.get("returncode", -9))
                return
            if step.channel == "hang":
                await asyncio.sleep(3600)
            queue = {"iopub": self._iopub, "stdin": self._stdin}.get(step.channel, self._shell)
            queue.put_nowait(message(step.msg_type, step.content, parent))

    def probe(self) -> str:
        """As a real kernel: answered once what it was publishing is out (IOPub is one ordered stream)."""
        parent = f"probe{len(self.probes) + 1}"
        self.probes.append(parent)
        asyncio.ensure_future(self._answer_probe(parent))
        return parent

    async def _answer_probe(self, parent: str) -> None:
        if self._player is not None:
            await asyncio.wait({self._player})
        self._iopub.put_nowait(message("status", {"execution_state": "busy"}, parent))
        self._shell.put_nowait(message("kernel_info_reply", {"status": "ok"}, parent))
        self._iopub.put_nowait(message("status", {"execution_state": "idle"}, parent))

    async def get_iopub(self, timeout: float) -> Message | None:
        return await self._get(self._iopub, timeout)

    async def get_shell(self, timeout: float) -> Message | None:
        return await self._get(self._shell, timeout)

    async def get_stdin(self, timeout: float) -> Message | None:
        return await self._get(self._stdin, timeout)

    def input_reply(self, value: str) -> None:
        self.input_replies.append(value)

    @staticmethod
    async def _get(queue: asyncio.Queue[Message], timeout: float) -> Message | None:
        try:
            return await asyncio.wait_for(queue.get(), timeout)
        except asyncio.TimeoutError:
            return None

    async def poll_exit(self) -> KernelExit | None:
        return self._exit

    async def interrupt(self) -> None:
        self.interrupts += 1
        if self._player is not None:
            self._player.cancel()
        parent = f"exec{len(self.sent)}"
        self._iopub.put_nowait(
            message("error", {"ename": "KeyboardInterrupt", "evalue": "", "traceback": ["KeyboardInterrupt"]}, parent)
        )
        self._shell.put_nowait(
            message(
                "execute_reply",
                {"status": "error", "ename": "KeyboardInterrupt", "evalue": "", "execution_count": len(self.sent)},
                parent,
            )
        )
        self._iopub.put_nowait(message("status", {"execution_state": "idle"}, parent))

    async def kill(self) -> None:
        self.killed = True
        self._exit = KernelExit(-9)

    async def close(self, grace: float = 1.0) -> KernelExit:
        self.closed = True
        return self._exit or KernelExit(0)

    def close_in_background(self, reaper: object, grace: float = 0.5) -> None:
        self.closed = True

    def stderr_tail(self, lines: int = 20) -> str:
        return "fake kernel stderr line"

    def stderr_text(self) -> str:
        return "fake kernel stderr line\n"


class UninterruptibleFakeKernel(FakeKernel):
    """A kernel that ignores interrupts (a stuck C extension)."""

    async def interrupt(self) -> None:
        self.interrupts += 1
