"""Fast kernel start: a warm template process forks a fresh ipykernel per notebook.

:class:`ForkServer` runs ``_forkserver.py`` (ipykernel and its debugger
already imported) with one interpreter and asks it for kernels;
:class:`ForkTemplates` (``templates``) holds a scope's templates, one per
interpreter; ``nbrun.kernel.fork.provisioner`` plugs them into jupyter_client. Only the standard library is imported here, so the CLI
can start the template before its own heavier imports. Every kernel is a new process (its own session and
process group, the notebook's cwd and environment, stdout/stderr to the
log), so no state is shared between notebooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("nbrun")

_SCRIPT = Path(__file__).with_name("_forkserver.py")
_READY_TIMEOUT = 60.0


class ForkedProcess:
    """A kernel forked by the template, with the parts of ``Popen`` a provisioner uses."""

    def __init__(self, pid: int, server: TemplateClient) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._server = server
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._server.exit_status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        # Exit statuses arrive through the event loop; callers poll() first.
        return self.poll()

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class TemplateClient:
    """The client half of the template protocol (``_forkserver.py``): requests out, pids and exits in.

    Subclasses say where the lines go: :class:`ForkServer` to a template it owns, the daemon's
    client to a Unix socket. *on_exit* hears each kernel's exit status as it arrives.
    """

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        self.preload = preload
        self._pending: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, int] = {}
        self._spawned: set[int] = set()
        self._ids = itertools.count(1)
        self._ready: asyncio.Future[int] | None = None
        self._pump: asyncio.Task[None] | None = None
        self.failed: str | None = None
        self.on_exit: Callable[[int, int], None] | None = None

    async def _open(self) -> asyncio.StreamReader:
        """Start or reach the template; the reader of its messages."""
        raise NotImplementedError

    def _send(self, line: bytes) -> None:
        raise NotImplementedError

    def _request_fields(self, spec_dir: str | None) -> dict[str, Any]:
        """What a request adds to the template protocol's fields (the daemon's key)."""
        return {}

    async def _attach(self) -> None:
        if self._ready is not None:
            return
        self._ready = asyncio.get_running_loop().create_future()
        try:
            reader = await self._open()
        except OSError as exc:
            self._fail(str(exc))
            return
        self._pump = asyncio.ensure_future(self._read_messages(reader))

    async def _read_messages(self, reader: asyncio.StreamReader) -> None:
        assert self._ready is not None
        while True:
            try:
                line = await reader.readline()
            except (OSError, ValueError):
                line = b""
            if not line:
                self._fail("the kernel template process exited")
                return
            message = json.loads(line)
            if "ready" in message and not self._ready.done():
                self._ready.set_result(message["ready"])
            elif "exit" in message:
                self._exits[message["exit"]] = message["returncode"]
                if self.on_exit is not None:
                    self.on_exit(message["exit"], message["returncode"])
            elif "id" in message:
                future = self._pending.pop(message["id"], None)
                if future is not None and not future.done():
                    if "pid" in message:
                        future.set_result(message["pid"])
                    else:
                        future.set_exception(OSError(message.get("error", "fork failed")))

    def _fail(self, reason: str) -> None:
        self.failed = reason
        for future in [*self._pending.values(), self._ready]:
            if future is not None and not future.done():
                future.set_exception(OSError(reason))
        self._pending.clear()

    def exit_status(self, pid: int) -> int | None:
        if pid in self._exits:
            return self._exits[pid]
        if self.failed is not None:  # the template is gone: its kernels were terminated
            return self._exits.get(pid, -signal.SIGTERM)
        return None

    @property
    def running(self) -> set[int]:
        """The kernels forked here that have not ended."""
        return self._spawned - set(self._exits)

    async def warm(self) -> int:
        """Wait until the template is ready; its pid."""
        await self._attach()
        assert self._ready is not None
        return await asyncio.wait_for(asyncio.shield(self._ready), _READY_TIMEOUT)

    async def spawn(
        self, argv: list[str], cwd: str, env: dict[str, str], log_path: str, spec_dir: str | None = None
    ) -> ForkedProcess:
        """Fork a kernel running ``ipykernel_launcher`` with *argv* (*spec_dir*: its kernelspec's folder)."""
        template_pid = await self.warm()
        request_id = next(self._ids)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        env = {**env, "JPY_PARENT_PID": str(template_pid)}
        request = {"id": request_id, "argv": argv, "cwd": cwd, "env": env, "log": log_path}
        self._send(json.dumps({**request, **self._request_fields(spec_dir)}).encode() + b"\n")
        pid = await asyncio.wait_for(future, _READY_TIMEOUT)
        self._spawned.add(pid)
        return ForkedProcess(pid, self)

    def launch(self) -> None:
        """Start or reach the template now (synchronously: it boots while nbrun imports)."""

    def discard(self) -> None:
        """Let go of a template that was launched but never used (no event loop needed)."""

    async def close(self) -> None:
        raise NotImplementedError

    async def _stop_pump(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump


class ForkServer(TemplateClient):
    """One template process of *python* (environment *env*, default this one's); ``spawn`` forks a kernel."""

    def __init__(self, python: str, preload: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        super().__init__(preload)
        self.python = python
        self.env = env
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def launch(self) -> None:
        """Start the template (synchronously, so it can boot while nbrun imports)."""
        if self._process is None:
            env = dict(os.environ if self.env is None else self.env)
            env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
            self._process = subprocess.Popen(
                [self.python, str(_SCRIPT), *self.preload],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    async def _open(self) -> asyncio.StreamReader:
        self.launch()
        assert self._process is not None and self._process.stdout is not None
        reader = asyncio.StreamReader(limit=1 << 20)
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), self._process.stdout)
        return reader

    def _send(self, line: bytes) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(line)
        self._process.stdin.flush()

    def discard(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()

    async def close(self) -> None:
        """Stop the template; it terminates any kernel still running."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            assert process.stdin is not None
            process.stdin.close()
        if not self.running and process.poll() is None:
            process.kill()  # no kernel left to clean up: skip the interpreter's teardown
        for _ in range(300):
            if process.poll() is not None:
                break
            await asyncio.sleep(0.01)
        if process.poll() is None:
            process.kill()
            process.wait()
        await self._stop_pump()
        if process.stdout is not None:
            process.stdout.close()  # the pump has stopped reading: the pipe would leak
