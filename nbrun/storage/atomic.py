"""Atomic file writes: temp file, fsync, ``os.replace``, keeping the replaced file's mode.

One writer for notebooks, reports and image files, so a killed run never
leaves a half-written file in a target's place.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import NotebookWriteError
from .leftovers import TMP_SUFFIX, sweep_temp_files, tmp_prefix


def write_text_atomic(
    text: str | bytes | Iterable[str],
    path: Path,
    error: type[NotebookWriteError] = NotebookWriteError,
    *,
    replace_if: Callable[[], bool] | None = None,
) -> bool:
    """Replace *path* with *text* atomically (temp file, fsync, ``os.replace``), keeping its permissions.

    *replace_if* is asked last, right before the replace (the narrowest
    window a check-then-replace can have); False discards the written copy
    and returns False. Otherwise returns True.

    *text* is bytes, a string or string pieces (UTF-8). The one atomic writer
    for notebooks, reports and image files; failures raise *error*. A symbolic
    link is written through: its final target is replaced (temp file in the
    target's folder), the link stays a link. Owner, group and mode of the
    replaced file are kept where the process may set them.
    """
    path = through_links(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(path, f"cannot create folder {folder}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise error(path, "output path is a directory")
    try:
        sweep_temp_files(folder, path.name)  # a killed nbrun's half-written copies
        fd, tmp_name = tempfile.mkstemp(prefix=tmp_prefix(path.name), suffix=TMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise error(path, f"cannot write in {folder}: {exc.strerror or exc}") from None
    try:
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as binary:
                binary.write(text)
                binary.flush()
                os.fsync(binary.fileno())
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                for piece in [text] if isinstance(text, str) else text:
                    handle.write(piece)
                handle.flush()
                os.fsync(handle.fileno())
        _copy_mode(path, tmp_name)
        _warn_hard_links(path)
        if replace_if is not None and not replace_if():
            _remove_quietly(tmp_name)
            return False
        os.replace(tmp_name, path)
    except OSError as exc:
        _remove_quietly(tmp_name)
        raise error(path, f"cannot write: {exc.strerror or exc}") from None
    except (TypeError, ValueError) as exc:
        _remove_quietly(tmp_name)
        raise NotebookWriteError(path, f"cannot serialise notebook: {exc}") from None
    except BaseException:
        _remove_quietly(tmp_name)
        raise
    return True


def check_writable(path: Path) -> None:
    """Raise NotebookWriteError now if *path* could not be written later (nothing is created).

    The folder (or, when it does not exist yet, the nearest existing folder
    above it) must be a writable folder, and *path* must not be a directory.
    """
    path = through_links(Path(path))
    if path.is_dir():
        raise NotebookWriteError(path, "output path is a directory")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NotebookWriteError(path, f"cannot create folder: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NotebookWriteError(path, f"cannot write in {folder}: permission denied")


def through_links(path: Path) -> Path:
    """The file a write to *path* must replace: the final target of a symlink chain."""
    if not path.is_symlink():
        return path
    return Path(os.path.realpath(path))


def _copy_mode(existing: Path, tmp_name: str) -> None:
    try:
        info = existing.stat()
    except OSError:
        os.chmod(tmp_name, 0o666 & ~_umask())
        return
    if hasattr(os, "chown") and (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(tmp_name, info.st_uid, info.st_gid)
        except OSError:
            pass  # not permitted (another owner): the new file stays ours
    os.chmod(tmp_name, info.st_mode & 0o7777)


_WARNED_HARD_LINKS: set[str] = set()


def _warn_hard_links(path: Path) -> None:
    """Say (once per path) that replacing a hard-linked file detaches it from its other names."""
    try:
        links = path.stat().st_nlink
    except OSError:
        return
    if links > 1 and str(path) not in _WARNED_HARD_LINKS:
        _WARNED_HARD_LINKS.add(str(path))
        logging.getLogger("nbrun").warning(
            "%s has %d other hard link(s); it is replaced by a new file, so those names keep the old content",
            path,
            links - 1,
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass
