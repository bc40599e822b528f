"""The folder of environments as a whole: what is in it (``nbrun env list``) and clearing it out (``prune``).

A removal takes the environment's build lock (so a build of the same digest
waits) and renames the folder aside before deleting it, so a run that looks
at the same moment sees either a finished environment or none.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..storage.file_lock import waiting_lock
from ..sync import run_sync
from .layout import BUILDING_PREFIX, LAST_USED, RECORD


@dataclass(frozen=True)
class EnvironmentInfo:
    """One finished environment: its digest, folder, size on disk, last use and what it was built from."""

    digest: str
    folder: Path
    size: int
    last_used: float  # seconds since the epoch
    dependencies: tuple[str, ...]
    requires_python: str | None
    locked: int  # packages its lock pinned (0: not locked)

    def describe(self) -> str:
        """The declarations on one line."""
        parts = [", ".join(self.dependencies) or "no dependencies"]
        if self.requires_python:
            parts.append(f"python {self.requires_python}")
        if self.locked:
            parts.append(f"locked ({self.locked} packages)")
        return "; ".join(parts)


def list_environments(root: Path) -> list[EnvironmentInfo]:
    """The finished environments in *root*, least recently used first (an unfinished build is not one)."""
    found = [info for info in _each(root) if info is not None]
    return sorted(found, key=lambda info: (info.last_used, info.digest))


def prune_environments(root: Path, older_than: float | None) -> list[EnvironmentInfo]:
    """Remove the environments unused for *older_than* seconds (None: all of them); the removed ones."""
    cutoff = None if older_than is None else time.time() - older_than
    removed = []
    for info in list_environments(root):
        if cutoff is None or info.last_used < cutoff:
            run_sync(_remove(root, info))
            removed.append(info)
    _sweep_abandoned_builds(root)
    return removed


def _each(root: Path) -> Iterator[EnvironmentInfo | None]:
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        yield _info(Path(entry.path))


def _info(folder: Path) -> EnvironmentInfo | None:
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    used = folder / LAST_USED
    last_used = (used if used.exists() else folder / RECORD).stat().st_mtime
    return EnvironmentInfo(
        digest=folder.name,
        folder=folder,
        size=_size(folder),
        last_used=last_used,
        dependencies=tuple(str(item) for item in record.get("dependencies") or ()),
        requires_python=record.get("requires_python"),
        locked=len(record.get("locked") or ()),
    )


def _size(folder: Path) -> int:
    """Bytes of the files under *folder* (hard links into uv's cache counted once per environment)."""
    total = 0
    for parent, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(parent, name)).st_size
            except OSError:
                continue
    return total


async def _remove(root: Path, info: EnvironmentInfo) -> None:
    async with waiting_lock(root / f"{info.digest}.lock"):
        aside = root / f"{BUILDING_PREFIX}removed-{info.digest}-{uuid.uuid4().hex[:8]}"
        try:
            os.replace(info.folder, aside)
        except OSError:
            return  # gone already
        shutil.rmtree(aside, ignore_errors=True)


def _sweep_abandoned_builds(root: Path, older_than: float = 24 * 3600) -> None:
    """Remove what builds killed a day ago or more left behind (their temporary folders)."""
    cutoff = time.time() - older_than
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(BUILDING_PREFIX) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
            shutil.rmtree(entry.path, ignore_errors=True)
