"""One kernel process and its client: start, talk, watch, stop.

Each session gets a private temporary folder holding the connection file,
the IPC sockets (no TCP ports, so concurrent starts cannot collide) and the
kernel's captured stdout/stderr log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from ..errors import KernelStartError
from ..storage.leftovers import session_prefix, sweep_sessions_once
from . import iopub
from .output_log import KernelLog
from .protocol import KernelExit, Message, Reaper
from .spec_manager import SpecManager
from .specs import kernel_spec
from .stdin_channel import StdinChannel
from .transport import choose_transport, start_channels_without_drops

log = logging.getLogger("nbrun")

_HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"
# ipykernel reads this extra config file before it opens its sockets: IOPub then never drops.
_NEVER_DROP = f"--IPKernelApp.extra_config_file={Path(__file__).with_name('iopub_never_drop.py')}"
_STDERR_TAIL_BYTES = 64 * 1024
PORT_TAKEN = "Address already in use"
PORT_RACE_RETRIES = 2


class KernelSession:
    """A started, ready kernel. Use ``await KernelSession.start(...)``."""

    def __init__(self, manager: AsyncKernelManager, folder: Path, kernel_log: KernelLog) -> None:
        self._manager = manager
        self._client = manager.client()
        self._folder = folder
        self._log = kernel_log
        self.kernel_info: dict[str, Any] = {}
        self.pid: int | None = getattr(manager.provisioner, "pid", None)
        self._exit: KernelExit | None = None
        self._closed = False
        self._stdin: StdinChannel | None = None
        self.max_message_bytes: int | None = None  # stream payloads past this are decoded only in part
        self.captured_output = ""  # the kernel's stdout/stderr, kept when the session closes

    @classmethod
    async def start(
        cls,
        kernel_name: str,
        cwd: Path,
        *,
        startup_timeout: float,
        extra_args: tuple[str, ...] = (),
        attempts: int = 2,
        transport: str = "auto",
        spec_manager: KernelSpecManager | None = None,
        env: Mapping[str, str] | None = None,
    ) -> KernelSession:
        """Start a kernel and wait until it answers; retry a failed start once.

        *env* is added to nbrun's environment for the kernel alone (a run's secrets).

        *transport* ``auto`` uses IPC for ipykernel (fast start included) and
        TCP on 127.0.0.1 for every other kernel (some, like xeus-python, fail
        on IPC); over TCP a start lost to a port race is retried twice.
        *spec_manager* chooses how specs are read (``fast_start.ForkSpecManager``
        names the fork provisioner); by default ``spec_manager.SpecManager``.
        """
        if kernel_name == "python":  # jupyter_client's alias for the native kernel
            kernel_name = NATIVE_KERNEL_NAME
        spec_manager = spec_manager or SpecManager()
        spec = kernel_spec(kernel_name, spec_manager)
        chosen = choose_transport(transport, spec.argv)
        last_error: KernelStartError | None = None
        tried = races = 0
        while tried < attempts:
            try:
                return await cls._start_once(
                    kernel_name, spec.argv, cwd, startup_timeout, extra_args, chosen, spec_manager, env or {}
                )
            except KernelStartError as exc:
                last_error = exc
                log.info("kernel start attempt %d failed: %s", tried + races + 1, exc)
                if chosen == "tcp" and PORT_TAKEN in str(exc) and races < PORT_RACE_RETRIES:
                    races += 1  # ports are picked free, then bound by the kernel: another start won; not counted
                    continue
                tried += 1
        assert last_error is not None
        raise KernelStartError(f"{last_error} (tried {tried + races} times)")

    @classmethod
    async def _start_once(
        cls,
        kernel_name: str,
        argv: list[str],
        cwd: Path,
        startup_timeout: float,
        extra_args: tuple[str, ...],
        transport: str,
        spec_manager: KernelSpecManager,
        extra_env: Mapping[str, str],
    ) -> KernelSession:
        sweep_sessions_once()  # folders of nbrun processes that were killed
        folder = Path(tempfile.mkdtemp(prefix=session_prefix()))
        kernel_log = KernelLog(folder)
        log_file = kernel_log.writer
        manager = AsyncKernelManager(
            kernel_name=kernel_name,
            connection_file=str(folder / "kernel.json"),
            transport=transport,
            ip=str(folder / "k") if transport == "ipc" else "127.0.0.1",  # short socket paths
            kernel_spec_manager=spec_manager,
        )
        arguments = list(extra_args)
        if manager.ipykernel or any("ipykernel" in part for part in argv):
            arguments[:0] = [_HISTORY_IN_MEMORY, _NEVER_DROP]
        env = {**os.environ, **extra_env}
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        session: KernelSession | None = None
        try:
            await manager.start_kernel(
                extra_arguments=arguments, cwd=str(cwd), stdout=log_file, stderr=log_file, env=env
            )
            session = cls(manager, folder, kernel_log)
            await session._wait_ready(startup_timeout)
            return session
        except KernelStartError:
            await cls._abandon(session, manager, folder, kernel_log)
            raise
        except Exception as exc:
            await cls._abandon(session, manager, folder, kernel_log)
            raise KernelStartError(f"kernel {kernel_name!r} failed to start: {exc}") from exc
        except BaseException:
            await cls._abandon(session, manager, folder, kernel_log)
            raise

    @staticmethod
    async def _abandon(
        session: KernelSession | None, manager: AsyncKernelManager, folder: Path, kernel_log: KernelLog
    ) -> None:
        if session is not None:
            await session.close(grace=0)
            return
        try:
            if manager.has_kernel:
                await manager.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - best effort on a failed start
            pass
        kernel_log.close()
        shutil.rmtree(folder, ignore_errors=True)

    async def _wait_ready(self, timeout: float) -> None:
        """kernel_info answered and IOPub connected; no fixed quiet period."""
        client = self._client
        start_channels_without_drops(client)
        deadline = time.monotonic() + timeout
        while True:
            request_id = client.kernel_info()
            reply = await self._await_reply(request_id, deadline)
            if reply is not None and await self._iopub_connected(deadline):
                self.kernel_info = reply.get("content", {})
                self._stdin = StdinChannel(client)
                await self._stdin.wait_connected(min(2.0, max(deadline - time.monotonic(), 0.1)))
                return
            if time.monotonic() >= deadline:
                raise KernelStartError(
                    f"kernel {self._manager.kernel_name!r} did not answer within {timeout:g} s{self._tail_suffix()}"
                )

    async def _await_reply(self, request_id: str, deadline: float) -> Message | None:
        while time.monotonic() < deadline:
            exit_status = await self.poll_exit()
            if exit_status is not None:
                raise KernelStartError(
                    f"kernel {self._manager.kernel_name!r} {exit_status.describe()} during start{self._tail_suffix()}"
                )
            msg = await self.get_shell(timeout=0.1)
            if msg is not None and msg.get("parent_header", {}).get("msg_id") == request_id:
                return msg
        return None

    async def _iopub_connected(self, deadline: float) -> bool:
        """Any IOPub message (status of our request, welcome) proves the subscription."""
        until = min(deadline, time.monotonic() + 0.5)
        while time.monotonic() < until:
            if await self.get_iopub(timeout=0.05) is not None:
                return True
        return False

    # -- talking -----------------------------------------------------------

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
        """Send an execute_request; return its msg_id."""
        msg_id: str = self._client.execute(
            code,
            store_history=store_history,
            allow_stdin=allow_stdin,
            stop_on_error=stop_on_error,
            user_expressions=user_expressions,
            silent=silent,
        )
        return msg_id

    def probe(self) -> str:
        msg_id: str = self._client.kernel_info()
        return msg_id

    async def get_iopub(self, timeout: float) -> Message | None:
        return await iopub.receive(self._client, timeout, self.max_message_bytes)

    async def get_shell(self, timeout: float) -> Message | None:
        return await iopub.receive_shell(self._client, timeout)

    async def get_stdin(self, timeout: float) -> Message | None:
        if self._stdin is None:
            await asyncio.sleep(timeout)
            return None
        return await self._stdin.get(timeout)

    def input_reply(self, value: str) -> None:
        if self._stdin is not None:
            self._stdin.reply(value)

    def send_comm_update(self, comm_id: str, state: dict[str, Any]) -> None:
        """Send a widget state update to the kernel, as a front end does (shell channel)."""
        content = {"comm_id": comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}}
        self._client.shell_channel.send(self._client.session.msg("comm_msg", content))

    # -- watching and stopping ---------------------------------------------

    async def poll_exit(self) -> KernelExit | None:
        """The kernel's exit if it has ended, else None (cheap, no blocking)."""
        if self._exit is None:
            provisioner = self._manager.provisioner
            if provisioner is None:
                return KernelExit(None)
            code = await provisioner.poll()
            if code is not None:
                self._exit = KernelExit(code)
        return self._exit

    async def wait_exit(self, interval: float = 0.1) -> KernelExit:
        """Return when the kernel process has ended."""
        while True:
            exit_status = await self.poll_exit()
            if exit_status is not None:
                return exit_status
            await asyncio.sleep(interval)

    async def interrupt(self) -> None:
        try:
            await self._manager.interrupt_kernel()
        except Exception as exc:  # noqa: BLE001 - a dead kernel cannot be interrupted
            log.debug("interrupt failed: %s", exc)

    async def kill(self) -> None:
        """SIGKILL the kernel's process group."""
        provisioner = self._manager.provisioner
        if provisioner is not None and await self.poll_exit() is None:
            try:
                await provisioner.kill()
            except Exception as exc:  # noqa: BLE001
                log.debug("kill failed: %s", exc)

    def stderr_tail(self, lines: int = 20) -> str:
        """The last lines the kernel wrote to its stdout/stderr."""
        if self._closed:
            text = self.captured_output[-_STDERR_TAIL_BYTES:]
        else:
            self._log.settle()  # a kernel that just died may have left bytes in the FIFO
            text = self._log.tail(_STDERR_TAIL_BYTES)
        return "\n".join(text.splitlines()[-lines:])

    def stderr_text(self) -> str:
        """What the kernel wrote to its stdout/stderr (for ``-v``): head and tail, the middle omitted."""
        if self._closed:
            return self.captured_output
        return self._log.text()

    def _tail_suffix(self) -> str:
        tail = self.stderr_tail(5)
        return f"; kernel output: {tail.strip().splitlines()[-1]}" if tail.strip() else ""

    def close_in_background(self, reaper: Reaper, grace: float = 0.5) -> None:
        """Ask the kernel to exit now and finish closing in a background task.

        The caller moves on at once; ``reaper.wait()`` waits for every such
        task (each bounded by about ``grace + 1`` s). If the task is
        cancelled (the event loop is closing) the kernel is killed at once.
        """
        reaper.add(asyncio.ensure_future(self._close_or_kill(grace)))

    async def _close_or_kill(self, grace: float) -> None:
        try:
            await self.close(grace)
        except asyncio.CancelledError:
            self.kill_now()
            raise

    def kill_now(self) -> None:
        """Synchronous last resort: SIGKILL the kernel's process group, drop its files."""
        pid = self.pid
        if pid is not None and self._exit is None:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                    break
                except OSError:
                    continue
        shutil.rmtree(self._folder, ignore_errors=True)

    async def close(self, grace: float = 1.0) -> KernelExit:
        """Ask the kernel to exit, then escalate to SIGTERM and SIGKILL.

        Never waits longer than about ``grace + 1`` seconds; afterwards no
        process of this kernel is left and the temporary folder is gone.
        """
        if self._closed:
            return self._exit or KernelExit(None)
        try:
            if await self.poll_exit() is None and grace > 0:
                self._client.shutdown()
                await self._wait_exit_for(grace)
            provisioner = self._manager.provisioner
            if await self.poll_exit() is None and provisioner is not None:
                await provisioner.terminate()
                await self._wait_exit_for(0.5)
            if await self.poll_exit() is None:
                await self.kill()
                await self._wait_exit_for(2.0)
        finally:
            await self._release()
            self.captured_output = self._log.text()
            self._closed = True
        return self._exit or KernelExit(None)

    async def _wait_exit_for(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.wait_exit(0.02), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _release(self) -> None:
        if self._stdin is not None:
            self._stdin.close()
        try:
            self._client.stop_channels()
        except Exception:  # noqa: BLE001
            pass
        process = getattr(self._manager.provisioner, "process", None)
        if process is not None:
            try:
                process.wait(timeout=0)
            except Exception:  # noqa: BLE001
                pass
        try:
            await self._manager.cleanup_resources()
        except Exception:  # noqa: BLE001
            pass
        await asyncio.get_running_loop().run_in_executor(None, self._log.close)
        shutil.rmtree(self._folder, ignore_errors=True)
