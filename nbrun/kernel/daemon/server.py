"""The daemon process: forks kernels from warm templates for the runs that connect to its socket.

Started detached by :func:`.control.start_daemon` (``python -m nbrun.kernel.daemon``, :func:`start_here`). A
connection speaks the template protocol of ``fork/_forkserver.py``: ``{"ready": pid}`` first,
then ``{"id", "pid"}``/``{"id", "error"}`` per request and ``{"exit": pid, "returncode"}``
when one of its kernels ends; ``{"status": 1}``, ``{"warm": {...}}`` and ``{"stop": 1}`` are
the control requests. Kernels belong to the connection that asked for them: when it closes
(the run ended or was killed) they are terminated, so none outlives its run. The daemon ends
after ``--idle-timeout`` seconds without a connection, on SIGTERM or on ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

from .place import DEFAULT_IDLE_TIMEOUT, LOCK_NAME, LOG_NAME, SOCKET_NAME, DaemonUnavailable, make_folder
from .templates import Template, TemplatePool

_KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL for the kernels of a closed connection


class Connection:
    """One client of the daemon and the kernels forked for it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.kernels: set[int] = set()
        self.open = True

    def send(self, message: dict[str, Any]) -> None:
        if self.open and not self.writer.is_closing():
            self.writer.write(json.dumps(message).encode() + b"\n")


class Daemon:
    """The templates, the connections, and the idle clock."""

    def __init__(self, idle_timeout: float) -> None:
        self.idle_timeout = idle_timeout
        self.pool = TemplatePool(self._kernel_ended)
        self.owners: dict[int, Connection] = {}
        self.connections = 0
        self.started = time.time()
        self.stopped = asyncio.Event()
        self._idle: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    def _arm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = None
        if self.connections == 0:
            self._idle = asyncio.get_running_loop().call_later(self.idle_timeout, self.stopped.set)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._arm_idle()
        connection = Connection(writer)
        connection.send({"ready": os.getpid()})
        try:
            while line := await reader.readline():
                if line.strip():
                    self._dispatch(connection, json.loads(line))
        except (ConnectionError, ValueError):
            pass  # a client gone or speaking something else: treated as closed
        finally:
            connection.open = False
            self._terminate(connection.kernels)
            writer.close()
            self.connections -= 1
            self._arm_idle()

    def _dispatch(self, connection: Connection, message: dict[str, Any]) -> None:
        if "status" in message:
            connection.send({"status": self.describe()})
        elif "stop" in message:
            connection.send({"stopping": os.getpid()})
            self.stopped.set()
        elif "warm" in message:
            self._track(self._warm(connection, message["warm"]))
        elif "id" in message:
            self._track(self._spawn(connection, message))

    def _track(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _warm(self, connection: Connection, request: dict[str, Any]) -> None:
        template = self.pool.template_for(request)
        try:
            await template.server.warm()
            connection.send({"warm": template.server.pid})
        except (OSError, asyncio.TimeoutError) as exc:
            connection.send({"warm": None, "error": str(exc) or type(exc).__name__})

    async def _spawn(self, connection: Connection, request: dict[str, Any]) -> None:
        try:
            template = self.pool.template_for(request)
            process = await template.server.spawn(request["argv"], request["cwd"], request["env"], request["log"])
        except (OSError, asyncio.TimeoutError, KeyError, TypeError) as exc:
            connection.send({"id": request.get("id"), "error": str(exc) or type(exc).__name__})
            return
        self.owners[process.pid] = connection
        connection.kernels.add(process.pid)
        connection.send({"id": request["id"], "pid": process.pid})
        code = template.server.exit_status(process.pid)
        if code is not None:  # it ended before it had an owner: its exit was relayed to nobody
            self._kernel_ended(template, process.pid, code)
        if not connection.open:
            self._terminate({process.pid})

    def _kernel_ended(self, template: Template, pid: int, returncode: int) -> None:
        connection = self.owners.pop(pid, None)
        if connection is not None:
            connection.kernels.discard(pid)
            connection.send({"exit": pid, "returncode": returncode})
        self.pool.close_idle_retired()

    def _terminate(self, pids: set[int]) -> None:
        """SIGTERM now, SIGKILL after a grace, for the kernels of a connection that closed."""
        for pid in list(pids):
            _signal_group(pid, signal.SIGTERM)
            asyncio.get_running_loop().call_later(_KILL_GRACE, self._kill_if_alive, pid)

    def _kill_if_alive(self, pid: int) -> None:
        if pid in self.owners:
            _signal_group(pid, signal.SIGKILL)

    def describe(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "started": self.started,
            "idle_timeout": self.idle_timeout,
            "kernels": len(self.owners),
            "templates": self.pool.describe(),
        }

    async def serve(self, listening: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            loop.add_signal_handler(signum, self.stopped.set)
        path = listening.getsockname()
        server = await asyncio.start_unix_server(self.handle, sock=listening, limit=1 << 24)
        self._arm_idle()
        try:
            await self.stopped.wait()
        finally:
            server.close()
            with contextlib.suppress(OSError):
                os.unlink(path)
            self._terminate(set(self.owners))
            await self.pool.close()


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signum)  # each kernel leads its own process group (setsid in the fork)


def _bind(folder: Path) -> socket.socket:
    """The listening socket, mode 0600 from birth; a socket left by a dead daemon is replaced."""
    path = folder / SOCKET_NAME
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # we hold the lock: whoever made it is gone
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listening.bind(str(path))
    finally:
        os.umask(old)
    listening.listen(64)
    return listening


def detach(folder: Path, lock: int, listening: socket.socket, idle_timeout: float) -> int:
    """Double fork: the daemon is nobody's child; returns its pid once it runs (DaemonUnavailable if it did not)."""
    ready_read, ready_write = os.pipe()
    first = os.fork()
    if first == 0:
        os.close(ready_read)
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        _become_daemon(folder, lock, ready_write, listening, idle_timeout)
    os.close(ready_write)
    os.waitpid(first, 0)
    with os.fdopen(ready_read, "rb") as ready:
        said = ready.readline().strip()
    if not said.isdigit():
        raise DaemonUnavailable(f"the daemon did not start (see {folder / LOG_NAME})")
    return int(said)


def _become_daemon(folder: Path, lock: int, ready: int, listening: socket.socket, idle_timeout: float) -> None:
    """In the grandchild: stdio to /dev/null and the log, the pid in the lock file, then serve until the end."""
    code = 0
    try:
        os.chdir("/")
        null = os.open(os.devnull, os.O_RDWR)
        log = os.open(folder / LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        os.ftruncate(lock, 0)
        os.pwrite(lock, str(os.getpid()).encode(), 0)
        os.write(ready, f"{os.getpid()}\n".encode())
        os.close(ready)
        asyncio.run(Daemon(idle_timeout).serve(listening))
    except BaseException as exc:  # noqa: BLE001 - the daemon's log says why it ended
        os.write(2, f"nbrun daemon: ended: {exc!r}\n".encode())
        code = 1
    finally:
        os._exit(code)


def start_here(idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> tuple[bool, int]:
    """Start the daemon from this process unless one runs: (started, its pid); DaemonUnavailable when it cannot."""
    folder = make_folder()
    try:
        lock = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DaemonUnavailable(f"cannot open {folder / LOCK_NAME}: {exc.strerror}") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        running = os.pread(lock, 32, 0).decode().strip()
        return False, int(running) if running.isdigit() else 0
    try:
        listening = _bind(folder)
    except OSError as exc:
        raise DaemonUnavailable(f"cannot listen on {folder / SOCKET_NAME}: {exc.strerror or exc}") from None
    return True, detach(folder, lock, listening, idle_timeout)
