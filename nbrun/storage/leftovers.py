"""Files a killed nbrun left behind, recognised by the pid in their names and removed.

Kernel session folders are ``<tmp>/nbrun-<pid>-<random>`` and temporary
files are ``.<name>.<pid>.<random>.nbrun-tmp``; a leftover is removed only
when the process of that pid is gone (and, for folders, when it is ours).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from pathlib import Path

SESSION_PREFIX = "nbrun-"
TMP_SUFFIX = ".nbrun-tmp"
_SESSION = re.compile(r"^nbrun-(\d+)-[^/]+$")
_TMP = re.compile(r"^\..*\.(\d+)\.[^.]+\.nbrun-tmp$")
_swept_sessions = False


def session_prefix() -> str:
    """``nbrun-<pid>-``: the prefix of this process's kernel session folders."""
    return f"{SESSION_PREFIX}{os.getpid()}-"


def tmp_prefix(name: str) -> str:
    """``.<name>.<pid>.``: the start of this process's temporary file for *name*."""
    return f".{name}.{os.getpid()}."


def running_process() -> dict[str, object]:
    """``{"pid", "host"}`` of this process, for the record of a notebook still running."""
    import socket

    return {"pid": os.getpid(), "host": socket.gethostname()}


def pid_alive(pid: int) -> bool:
    """True when a process with *pid* exists (or may: it belongs to someone else)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_sessions_once(root: Path | None = None) -> list[Path]:
    """Remove session folders of dead nbrun processes (once per process); return them."""
    global _swept_sessions
    if _swept_sessions and root is None:
        return []
    _swept_sessions = True
    root = Path(root or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        match = _SESSION.match(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        if not pid_alive(int(match.group(1))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def sweep_temp_files(folder: Path, name: str = "*") -> list[Path]:
    """Remove ``.<name>.<pid>.*.nbrun-tmp`` files in *folder* whose pid is gone."""
    pattern = os.path.join(glob.escape(str(folder)), f".{name if name == '*' else glob.escape(name)}.*{TMP_SUFFIX}")
    removed: list[Path] = []
    for candidate in glob.glob(pattern):  # the pattern starts with '.', so hidden files match
        match = _TMP.match(os.path.basename(candidate))
        if match is None or pid_alive(int(match.group(1))):
            continue
        try:
            os.unlink(candidate)
            removed.append(Path(candidate))
        except OSError:
            pass
    return removed
