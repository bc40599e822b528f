"""What earlier runs tell about each notebook, and the two batch decisions taken from it.

A notebook's past duration and peak memory come from a JSON run record
(``--durations FILE``: an earlier ``--json``) or from the execution cache's
entries. :func:`shard` splits the discovered notebooks into CI jobs, balanced
by duration when any is known, by a stable hash of the path otherwise;
:func:`fit_jobs` lowers ``-j auto`` so the notebooks' past peaks fit in the
memory available.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..errors import UsageError
from ..units import format_size


@dataclass(frozen=True)
class PastRun:
    """One notebook's last known figures (None: not known)."""

    duration: float | None = None
    peak_memory: int | None = None

    @classmethod
    def of(cls, figures: Mapping[str, object]) -> PastRun:
        """From a run record's notebook entry or a cache entry's header (both name them ``duration``, ``peak_memory``)."""
        peak = _number(figures.get("peak_memory"))
        return cls(_number(figures.get("duration")), int(peak) if peak is not None else None)


History = Mapping[str, PastRun]  # by resolved path
P = TypeVar("P")  # a notebook: a Path or a URL


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def history_from_record(path: Path) -> dict[str, PastRun]:
    """The notebooks of a JSON run record, their inputs resolved against the record's ``cwd`` (UsageError)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--durations {path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"--durations {path}: not a JSON run record: {exc}") from None
    notebooks = record.get("notebooks") if isinstance(record, dict) else None
    if not isinstance(notebooks, list):
        raise UsageError(f"--durations {path}: not a JSON run record (no 'notebooks' list)")
    base = Path(str(record.get("cwd") or "."))
    found: dict[str, PastRun] = {}
    for notebook in notebooks:
        if isinstance(notebook, dict) and isinstance(notebook.get("input"), str):
            found[os.path.abspath(base / notebook["input"])] = PastRun.of(notebook)
    return found


def history_from_cache(directory: Path) -> dict[str, PastRun]:
    """The last stored run of each notebook in the execution cache at *directory* (headers only)."""
    from ..cache.store import CacheStore

    found: dict[str, PastRun] = {}
    for entry in CacheStore(directory).entries():  # oldest use first: the latest wins
        if entry.source != "?":
            found[entry.source] = PastRun.of(entry.header)
    return found


def shard(paths: Sequence[P], index: int, count: int, history: History) -> list[P]:
    """The *index*-th (1-based) of *count* parts of *paths*, in their order; every path is in exactly one part.

    With durations known for any of them, the parts are balanced by time
    (longest first, each to the least loaded part; an unknown one counts as
    the median); without, a path goes to the part its hash names, so a
    notebook stays in its shard as others come and go.
    """
    names = [_stable_name(path) for path in paths]
    durations = [history.get(_key(path), PastRun()).duration for path in paths]
    known = [value for value in durations if value is not None]
    if not known:
        digests = [int(hashlib.sha256(name.encode()).hexdigest(), 16) for name in names]
        return [path for path, digest in zip(paths, digests) if digest % count == index - 1]
    typical = statistics.median(known)
    estimates = [value if value is not None else typical for value in durations]
    loads = [0.0] * count
    part = [0] * len(paths)
    for position in sorted(range(len(paths)), key=lambda at: (-estimates[at], names[at])):
        lightest = min(range(count), key=lambda number: (loads[number], number))
        part[position] = lightest
        loads[lightest] += estimates[position]
    return [path for position, path in enumerate(paths) if part[position] == index - 1]


def _key(path: object) -> str:
    """The history's key of a notebook: its resolved path (a URL as written)."""
    return os.path.abspath(path) if isinstance(path, Path) else str(path)


def _stable_name(path: object) -> str:
    """The path as every CI job of one checkout names it: relative to the working folder, with / separators."""
    if not isinstance(path, Path):
        return str(path)  # a URL
    try:
        return Path(os.path.relpath(os.path.abspath(path))).as_posix()
    except ValueError:  # another drive
        return path.as_posix()


def fit_jobs(cpus: int, paths: Sequence[object], history: History, available: int | None) -> tuple[int, str | None]:
    """``-j auto``: *cpus*, lowered so that many of the heaviest known notebooks fit in *available* bytes.

    Returns the jobs and, when memory lowered them, the sentence saying why.
    """
    peaks = [history[key].peak_memory for key in map(_key, paths) if key in history]
    heaviest = max((peak for peak in peaks if peak), default=None)
    if heaviest is None or available is None:
        return cpus, None
    fitting = max(1, available // heaviest)
    if fitting >= cpus:
        return cpus, None
    return fitting, (
        f"-j auto: {fitting} job{'s' if fitting != 1 else ''}, not {cpus}: a notebook here has needed "
        f"{format_size(heaviest)} and {format_size(available)} is available"
    )
