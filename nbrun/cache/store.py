"""The cache store: plain files, one per key, written atomically; no database, no lock.

Layout: ``DIR/nbrun-cache-1/<first two hex digits>/<key>.nbrun``. Each file
is one header line (JSON: key, checksum and size of the body, a summary for
listing) followed by the body (JSON: the run record, the key's parts and the
executed notebook). A file is written to a temporary name in the same folder
and renamed into place, so readers see a whole entry or none, and many
processes can fill one store at once (the last writer of a key wins; both
wrote the same run). A file whose checksum does not match is corrupt: it
reads as a miss. ``DIR/nbrun-cache-1/digest.key`` is the store's random key
for the digests of the environment variables a run read (``reads``).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode, from_dict

from ..errors import CacheStoreError, CorruptEntryError
from ..storage.cache_folder import STORE_FOLDER, SUFFIX

DIGEST_KEY_FILE = "digest.key"
_STALE_TEMP_SECONDS = 3600


@dataclass(frozen=True)
class StoredRun:
    """One stored run: its header summary, the run record, the key parts and the notebook."""

    key: str
    header: dict[str, Any]
    record: dict[str, Any]
    parts: dict[str, Any]
    notebook: NotebookNode
    reads: dict[str, Any] | None = None  # see cache.reads; None in entries written before it


@dataclass(frozen=True)
class EntryInfo:
    """What ``nbrun cache list`` shows about one entry (from its header only)."""

    key: str
    path: Path
    size: int
    last_used: float  # the file's mtime: set when stored, refreshed on every hit
    header: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.header.get("status", "?"))

    @property
    def source(self) -> str:
        return str(self.header.get("source", "?"))


class CacheStore:
    """A cache folder. Every method is safe to call from many processes at once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.entries_dir = self.root / STORE_FOLDER

    def path_for(self, key: str) -> Path:
        return self.entries_dir / key[:2] / f"{key}{SUFFIX}"

    def load(self, key: str, *, touch: bool = True) -> StoredRun | None:
        """The run stored under *key*; None when absent; CorruptEntryError when unreadable.

        With *touch* (a hit), the entry's last-used time is refreshed.
        """
        path = self.path_for(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CorruptEntryError(f"cache entry {path} could not be read: {exc.strerror}") from exc
        header, body = _split(raw, path)
        if header.get("key") != key:
            raise CorruptEntryError(f"cache entry {path} holds another key")
        try:
            data = json.loads(body)
            stored = StoredRun(
                key, header, dict(data["record"]), dict(data["parts"]), from_dict(data["notebook"]), data.get("reads")
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptEntryError(f"cache entry {path} is corrupt ({exc})") from exc
        if touch:
            self.touch(key)
        return stored

    def touch(self, key: str) -> None:
        """Mark the entry under *key* used now (what prune's --max-size evicts by)."""
        try:
            os.utime(self.path_for(key))
        except OSError:
            pass  # a read-only cache still serves hits

    def save(
        self,
        key: str,
        notebook: NotebookNode,
        record: dict[str, Any],
        parts: dict[str, Any],
        summary: dict[str, Any],
        reads: dict[str, Any] | None = None,
    ) -> Path:
        """Store a run under *key* atomically; returns the entry's path (OSError on failure)."""
        content = {"record": record, "parts": parts, "notebook": notebook}
        if reads is not None:
            content["reads"] = reads
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        header = {
            "format": STORE_FOLDER,
            "key": key,
            "sha256": hashlib.sha256(body).hexdigest(),
            "size": len(body),
            "stored": _utc_now(),
            **summary,
        }
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{key[:8]}-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
                out.write(body)  # no fsync: an entry a crash truncates fails its checksum and reads as a miss
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                _remove(Path(temp))
            raise
        return path

    def digest_key(self) -> bytes | None:
        """The store's key for digests of environment values (None: there is none, or it is unreadable)."""
        try:
            return (self.entries_dir / DIGEST_KEY_FILE).read_bytes()
        except OSError:
            return None

    def make_digest_key(self) -> bytes:
        """The store's key for digests of environment values, made on first use (OSError)."""
        path = self.entries_dir / DIGEST_KEY_FILE
        with contextlib.suppress(FileNotFoundError):
            return path.read_bytes()
        self.entries_dir.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".key-", suffix=".tmp", dir=self.entries_dir)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(secrets.token_bytes(32))
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(temp, path)
        finally:
            _remove(Path(temp))
        return path.read_bytes()

    def entries(self) -> list[EntryInfo]:
        """Every entry, oldest use first; unreadable headers are listed with status 'corrupt'."""
        found = []
        for path in self._entry_files():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # removed meanwhile by another process
            try:
                header = _read_header(path)
            except FileNotFoundError:
                continue
            except (OSError, CorruptEntryError):
                header = {"status": "corrupt"}
            found.append(EntryInfo(path.stem, path, stat.st_size, stat.st_mtime, header))
        return sorted(found, key=lambda entry: (entry.last_used, entry.key))

    def info(self, key: str) -> EntryInfo | None:
        """The entry stored under *key* (header only), or None."""
        path = self.path_for(key)
        try:
            return EntryInfo(key, path, path.stat().st_size, path.stat().st_mtime, _read_header(path))
        except (OSError, CorruptEntryError):
            return None

    def find(self, prefix: str) -> list[EntryInfo]:
        """Entries whose key starts with *prefix* (as ``git`` abbreviates hashes)."""
        return [entry for entry in self.entries() if entry.key.startswith(prefix.lower())]

    def remove(self, entry: EntryInfo) -> bool:
        return _remove(entry.path)

    def clear(self) -> int:
        """Remove every entry (and stray temporary files); returns how many entries went."""
        removed = sum(1 for entry in self.entries() if self.remove(entry))
        self._remove_stale_temps(max_age=0)
        return removed

    def prune(self, *, max_size: int | None = None, older_than: float | None = None) -> list[EntryInfo]:
        """Drop entries unused for *older_than* seconds, then the least recently used until
        the store holds at most *max_size* bytes; returns what was removed."""
        removed: list[EntryInfo] = []
        entries = self.entries()
        now = time.time()
        kept = []
        for entry in entries:
            if (older_than is not None and now - entry.last_used > older_than) or entry.status == "corrupt":
                if self.remove(entry):
                    removed.append(entry)
            else:
                kept.append(entry)
        if max_size is not None:
            total = sum(entry.size for entry in kept)
            for entry in kept:  # least recently used first
                if total <= max_size:
                    break
                if self.remove(entry):
                    removed.append(entry)
                total -= entry.size
        self._remove_stale_temps(max_age=_STALE_TEMP_SECONDS)
        return removed

    def _entry_files(self) -> Iterator[Path]:
        if not self.entries_dir.is_dir():
            return
        for folder in sorted(self.entries_dir.iterdir()):
            if folder.is_dir():
                yield from sorted(folder.glob(f"*{SUFFIX}"))

    def _remove_stale_temps(self, max_age: float) -> None:
        if not self.entries_dir.is_dir():
            return
        now = time.time()
        for temp in self.entries_dir.glob("*/.*.tmp"):
            try:
                if now - temp.stat().st_mtime >= max_age:
                    _remove(temp)
            except OSError:
                continue


def _split(raw: bytes, path: Path) -> tuple[dict[str, Any], bytes]:
    line, newline, body = raw.partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise CorruptEntryError(f"cache entry {path} has no readable header") from exc
    if not newline or not isinstance(header, dict):
        raise CorruptEntryError(f"cache entry {path} has no readable header")
    if header.get("size") != len(body) or header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise CorruptEntryError(f"cache entry {path} is truncated or corrupt (checksum mismatch)")
    return header, body


def _read_header(path: Path) -> dict[str, Any]:
    with open(path, "rb") as handle:
        line = handle.readline(1 << 20)
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise CorruptEntryError(str(path)) from exc
    if not isinstance(header, dict):
        raise CorruptEntryError(str(path))
    return header


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise CacheStoreError(f"could not remove {path}: {exc.strerror or exc}") from exc


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
