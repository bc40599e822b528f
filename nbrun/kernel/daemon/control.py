"""Starting, asking and stopping the daemon (``nbrun daemon start|status|stop``), synchronously."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ...storage.leftovers import pid_alive
from .place import DEFAULT_IDLE_TIMEOUT, DaemonNotRunning, DaemonUnavailable, connect, socket_path
from .templates import key_fields

_ANSWER_TIMEOUT = 60.0  # a warm request waits for a template to boot


@dataclass(frozen=True)
class DaemonStatus:
    """What a running daemon says of itself."""

    pid: int
    socket: str
    idle_timeout: float
    kernels: int
    started: float
    templates: list[dict[str, Any]] = field(default_factory=list)


def start_daemon(idle_timeout: float | None = None) -> int:
    """Start the daemon detached unless one runs; its pid (DaemonUnavailable when it cannot start)."""
    timeout = DEFAULT_IDLE_TIMEOUT if idle_timeout is None else idle_timeout
    command = [sys.executable, "-m", "nbrun.kernel.daemon", "--idle-timeout", repr(float(timeout))]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DaemonUnavailable(f"the daemon did not start ({exc})") from None
    said = done.stdout.decode(errors="replace").split()
    if done.returncode != 0 or len(said) != 2 or not said[1].isdigit():
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise DaemonUnavailable(why[-1] if why else f"the daemon did not start (exit {done.returncode})")
    return int(said[1])


def ask(request: dict[str, Any], timeout: float = _ANSWER_TIMEOUT) -> dict[str, Any]:
    """Send one control request to the running daemon and return its answer (DaemonUnavailable otherwise)."""
    with connect() as connection:
        connection.settimeout(timeout)
        reader = connection.makefile("rb")
        try:
            json.loads(reader.readline())  # {"ready": pid}
            connection.sendall(json.dumps(request).encode() + b"\n")
            answer = reader.readline()
        except (OSError, ValueError) as exc:
            raise DaemonUnavailable(f"the daemon did not answer ({exc})") from None
        finally:
            reader.close()
    if not answer:
        raise DaemonUnavailable("the daemon closed the connection without answering")
    result: dict[str, Any] = json.loads(answer)
    return result


def daemon_status() -> DaemonStatus | None:
    """The running daemon's status, or None when none runs (DaemonUnavailable for a socket not ours)."""
    try:
        said = ask({"status": 1}, timeout=10.0)["status"]
    except DaemonNotRunning:
        return None
    return DaemonStatus(
        pid=said["pid"],
        socket=str(socket_path()),
        idle_timeout=said["idle_timeout"],
        kernels=said["kernels"],
        started=said["started"],
        templates=said["templates"],
    )


def warm_daemon(preload: tuple[str, ...] = ()) -> int | None:
    """Have the daemon boot the template of this interpreter and environment; its pid (None if it failed)."""
    pid: int | None = ask({"warm": key_fields(preload)}).get("warm")
    return pid


def stop_daemon(timeout: float = 10.0) -> int | None:
    """Stop the running daemon (its kernels are terminated) and wait for it to end; its pid, None if none ran."""
    try:
        pid = int(ask({"stop": 1}, timeout=timeout)["stopping"])
    except DaemonNotRunning:
        return None
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return pid


def _alive(pid: int) -> bool:
    return pid_alive(pid) and not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False
