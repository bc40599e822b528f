"""A stored run's reads (``nbrun.execution.kernel_reads``) as the cache keeps and re-checks them.

Every file the run read (its local modules too) and every file it wrote is
kept with size, mtime and content hash; every folder it listed with its
sorted names; every glob it expanded with its matches; the environment
variables it read with a keyed digest of their value (HMAC-SHA256 under the
store's own random key; never the value). A lookup re-checks them (a stat
first, the hash only when size or mtime differ); one that no longer holds is
a miss, with the reason. A run that reached the network or started a
subprocess cannot be checked: it is replayed only within a time to live.
"""

from __future__ import annotations

import glob
import hashlib
import hmac
import os
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..execution.kernel_reads import KernelReads
from ..units import format_duration
from .entry_shape import READS_VERSION as VERSION

NBRUN_SET = frozenset({"PYDEVD_DISABLE_FILE_VALIDATION", "JPY_PARENT_PID", "JPY_SESSION_NAME"})
_MAX_NAMES = 5000  # a folder listing kept name by name up to this many entries (a digest beyond)


def snapshot(
    reads: KernelReads | None, digest_key: bytes, own_outputs: Collection[str] = (), keyed: Collection[str] = ()
) -> dict[str, Any]:
    """What the entry stores about *reads* (None: a kernel that records nothing, so only the key counts).

    *own_outputs* are the paths nbrun itself writes for this run (the notebook, its images, its HTML):
    they are left out of folder listings, so writing them does not make the next run stale.
    *keyed* are the secrets the key holds: the kernel's value, not nbrun's variable of that name, counts.
    """
    now = time.time()
    if reads is None:
        return {"v": VERSION, "recorded": False, "at": now}
    own = sorted({os.path.abspath(path) for path in own_outputs})
    return {
        "v": VERSION,
        "recorded": True,
        "at": now,
        "env": {
            name: env_digest(name, digest_key) for name in reads.env if name not in NBRUN_SET and name not in keyed
        },
        "files": {path: file_state(path) for path in reads.read},
        "written": {path: file_state(path) for path in reads.written},
        "listed": {path: listing(path, own) for path in reads.listed},
        "globs": {pattern: glob_matches(pattern) for pattern in reads.globs},
        "own": own,
        "network": list(reads.network),
        "processes": list(reads.processes),
    }


def stale_reason(
    stored: Mapping[str, Any] | None,
    digest_key: bytes | None,
    *,
    base: Path,
    ttl: float | None = None,
    now: float | None = None,
) -> str | None:
    """Why the stored reads no longer hold (None: they do); paths are shown relative to *base*.

    Stops at the first change: a stale entry costs one stat per file up to it, no more.
    """
    if stored is None or stored.get("v") != VERSION:
        return "it was stored before nbrun recorded what runs read"
    if not stored.get("recorded"):
        return None
    untracked = _untracked_reason(stored, ttl, time.time() if now is None else now)
    if untracked:
        return untracked
    return next((check.reason for check in checked_reads(stored, digest_key, base) if check.reason), None)


@dataclass(frozen=True)
class ReadCheck:
    """One recorded read checked against now: what it is, as shown, and how it changed (None: it did not)."""

    kind: str  # read, wrote, listed, glob, env
    shown: str  # the path, pattern or variable name, relative to the notebook's folder when below it
    detail: str  # what was stored: a hash, a count of names or matches
    state: str  # "unchanged", or how it changed ("changed", "was removed", "appeared")
    reason: str | None  # the sentence a re-run says (``data/sales.csv changed``); None when unchanged


def checked_reads(stored: Mapping[str, Any], digest_key: bytes | None, base: Path) -> Iterator[ReadCheck]:
    """Each recorded read of a stored entry (this nbrun's shape), checked now, lazily and in a fixed order."""
    show = shower(base)
    for kind, states, suffix in (("read", stored["files"], ""), ("wrote", stored["written"], ", which the run wrote,")):
        for path, state in states.items():
            change = file_change(path, state)
            reason = f"{show(path)}{suffix} {change}" if change else None
            yield ReadCheck(kind, show(path), _digest(state), change or "unchanged", reason)
    own = stored.get("own", [])
    for path, names in stored["listed"].items():
        count = f"{len(names)} names" if isinstance(names, list) else "absent" if names is None else "many names"
        same = listing(path, own) == names
        reason = None if same else f"the folder {show(path)} changed (files added or removed)"
        yield ReadCheck("listed", show(path), f"({count})", "unchanged" if same else "changed", reason)
    for pattern, matches in stored["globs"].items():
        now_matching = glob_matches(pattern)
        shown, reason = show(pattern.split(" ", 1)[1]), None
        if now_matching != matches:
            new = sorted(set(now_matching) - set(matches))
            reason = f"{shown} matches other files ({f'new: {show(new[0])}' if new else 'a file went away'})"
        yield ReadCheck("glob", shown, f"({len(matches)} matches)", "changed" if reason else "unchanged", reason)
    for name, digest in stored["env"].items():
        if digest_key is None:
            yield ReadCheck(
                "env", name, "(a keyed digest of its value)", "unknown", "the cache's digest key is missing"
            )
            continue
        same = hmac.compare_digest(env_digest(name, digest_key), digest)
        reason = None if same else f"the environment variable {name} changed"
        yield ReadCheck("env", name, "(a keyed digest of its value)", "unchanged" if same else "changed", reason)


def _digest(state: Mapping[str, Any]) -> str:
    digest = state.get("sha256")
    return f"sha256 {digest[:12]}" if isinstance(digest, str) else "(absent)"


def _untracked_reason(stored: Mapping[str, Any], ttl: float | None, now: float) -> str | None:
    """Why a run nbrun cannot re-check (network, subprocesses) is not replayed, or None."""
    network, processes = stored.get("network") or [], stored.get("processes") or []
    if not network and not processes:
        return None
    what = f"it reached the network ({network[0]})" if network else f"it ran a subprocess ({processes[0]})"
    if ttl is None:
        return f"{what}, which nbrun cannot re-check, and no --cache-ttl is given"
    age = now - float(stored.get("at", 0))
    if age > ttl:
        return f"{what}, and its stored run is {format_duration(age)} old, past its --cache-ttl {format_duration(ttl)}"
    return None


def file_state(path: str) -> dict[str, Any]:
    """Size, mtime (ns) and content hash of *path* (a missing file has none): one open, one fstat."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return {"size": None, "mtime_ns": None, "sha256": None}
    state: dict[str, Any] = {"size": None, "mtime_ns": None, "sha256": "unreadable"}
    try:
        stat = os.fstat(descriptor)
        state.update(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        digest = hashlib.sha256()
        while chunk := os.read(descriptor, 1 << 20):
            digest.update(chunk)
        state["sha256"] = digest.hexdigest()
    except OSError:  # a folder opened for reading, or a read error: "unreadable" until it reads
        pass
    finally:
        os.close(descriptor)
    return state


def file_change(path: str, state: Mapping[str, Any]) -> str | None:
    """How *path* differs from *state*: stat first; hash only when size or mtime moved."""
    try:
        stat = os.stat(path)
    except OSError:
        return None if state.get("sha256") is None else "was removed"
    if state.get("sha256") is None:
        return "appeared"
    if stat.st_size == state.get("size") and stat.st_mtime_ns == state.get("mtime_ns"):
        return None
    return None if file_state(path)["sha256"] == state["sha256"] else "changed"


def listing(path: str, own: Collection[str] = ()) -> list[str] | str | None:
    """The sorted names in folder *path*, nbrun's own outputs left out (a digest for huge folders; None: absent)."""
    try:
        names = os.listdir(path)
    except OSError:
        return None
    skipped = {os.path.basename(item) for item in own if os.path.dirname(item) == os.path.abspath(path)}
    kept = sorted(name for name in names if name not in skipped)
    if len(kept) <= _MAX_NAMES:
        return kept
    return hashlib.sha256("\0".join(kept).encode("utf-8", "surrogateescape")).hexdigest()


def glob_matches(pattern: str) -> list[str]:
    """The sorted matches of a recorded glob (``"* PATTERN"``, or ``"** PATTERN"`` when recursive)."""
    kind, _, text = pattern.partition(" ")
    return sorted(glob.glob(text, recursive=kind == "**"))


def shower(base: Path) -> Any:
    """Show a path relative to *base* when it is below it, else as it is."""
    prefix = os.path.join(os.path.abspath(base), "")

    def show(path: str) -> str:
        return path[len(prefix) :] if path.startswith(prefix) else path

    return show


def env_digest(name: str, digest_key: bytes) -> str:
    """A keyed digest of environment variable *name*'s value here (unset differs from every value)."""
    value = os.environ.get(name)
    text = name if value is None else f"{name}={value}"
    return hmac.new(digest_key, text.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
