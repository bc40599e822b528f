"""Where the daemon's socket lives, and the checks that keep a run from talking to anyone else's.

One daemon per user: ``$XDG_RUNTIME_DIR/nbrun/`` when the session has one, else
``<tmp>/nbrun-<uid>/``. The folder is made mode 0700 and the socket 0600; before
connecting, both must be owned by this user and closed to others, or the socket is refused.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from pathlib import Path

DEFAULT_IDLE_TIMEOUT = 600.0  # seconds without a connection before the daemon ends
SOCKET_NAME = "daemon.sock"
LOCK_NAME = "daemon.lock"  # held by the running daemon: the one proof that it is alive
LOG_NAME = "daemon.log"


class DaemonUnavailable(OSError):
    """The daemon cannot be used (not running, not startable, or its socket is not safe); the message says why."""


class DaemonNotRunning(DaemonUnavailable):
    """No daemon listens (no socket, or one left by a daemon that died)."""


def daemon_folder() -> Path:
    """This user's daemon folder (not created here)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "nbrun"
    return Path(tempfile.gettempdir()) / f"nbrun-{os.geteuid()}"


def socket_path() -> Path:
    return daemon_folder() / SOCKET_NAME


def make_folder() -> Path:
    """The daemon folder, created 0700 if missing, refused if it is not safe."""
    folder = daemon_folder()
    try:
        folder.mkdir(mode=0o700, parents=False)
    except FileExistsError:
        pass
    except OSError as exc:
        raise DaemonUnavailable(f"cannot create the daemon folder {folder}: {exc.strerror}") from None
    check_owned(folder, stat.S_ISDIR, "folder")
    return folder


def check_owned(path: Path, kind: object, what: str) -> None:
    """Raise DaemonUnavailable unless *path* is a *what* (``stat.S_ISDIR``/``S_ISSOCK``) of ours, closed to others."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise DaemonNotRunning(f"no daemon is running (no {path})") from None
    assert callable(kind)
    if not kind(info.st_mode):
        raise DaemonUnavailable(f"the daemon {what} {path} is not a {what}: not used")
    if info.st_uid != os.geteuid():
        raise DaemonUnavailable(
            f"the daemon {what} {path} belongs to uid {info.st_uid}, not to this user (uid {os.geteuid()}): not used"
        )
    if info.st_mode & 0o077:
        raise DaemonUnavailable(
            f"the daemon {what} {path} is open to others (mode {stat.S_IMODE(info.st_mode):04o}): not used"
        )


def check_socket(path: Path) -> None:
    """Refuse a socket (or its folder) that another user owns or could reach."""
    check_owned(path.parent, stat.S_ISDIR, "folder")
    check_owned(path, stat.S_ISSOCK, "socket")


def connect() -> socket.socket:
    """A connection to this user's daemon; DaemonNotRunning, or DaemonUnavailable for a socket not ours."""
    path = socket_path()
    if os.path.lexists(path.parent):
        check_owned(path.parent, stat.S_ISDIR, "folder")
    if not os.path.lexists(path):
        raise DaemonNotRunning(f"no daemon is running (no {path})")
    check_socket(path)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        connection.close()
        raise DaemonNotRunning(f"no daemon is running (stale socket {path})") from None
    except OSError as exc:
        connection.close()
        raise DaemonUnavailable(f"cannot connect to the daemon at {path}: {exc.strerror}") from None
    return connection
