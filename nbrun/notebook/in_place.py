"""The in-place edit guard: a run that writes back to its own source must not erase an edit made meanwhile.

Every write of the run to its source (``--autosave`` rewrites and the final
write) goes through one :class:`InPlaceGuard`. It knows the bytes the file
should hold (as read, then as nbrun last wrote them); if the file holds other
bytes, someone edited it: the edit stays, and this and every later write go
beside it to ``<stem>.nbrun-executed.ipynb``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from nbformat import NotebookNode

from ..storage.atomic import write_text_atomic
from .format import notebook_chunks

DIVERTED_SUFFIX = ".nbrun-executed.ipynb"


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class InPlaceGuard:
    """Writes to *path* only while it holds what nbrun last saw there; else beside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.diverted_to: Path | None = None  # set, for good, by the first write that finds an edit
        # Taken before the notebook is read: an edit in between diverts the run (kept), never lost.
        self._expected = _file_digest(path)

    def write(self, nb: NotebookNode) -> str | None:
        """Write *nb*; the warning to give when this write is the one that found an edit (else None).

        The file is compared right before the replace, after the slow part
        (serialising, fsync), so an edit can only be missed in that last instant.
        """
        if self.diverted_to is None:
            digest = hashlib.sha256()
            chunks = _hashed(notebook_chunks(nb), digest.update)
            if write_text_atomic(chunks, self.path, replace_if=self._unchanged):
                self._expected = digest.hexdigest()  # the bytes just written, not a re-read another writer could race
                return None
            self.diverted_to = self.path.with_name(self.path.name.removesuffix(".ipynb") + DIVERTED_SUFFIX)
            write_text_atomic(notebook_chunks(nb), self.diverted_to)
            return (
                f"{self.path} changed on disk during the run; the edit is kept and "
                f"the executed notebook is written to {self.diverted_to}"
            )
        write_text_atomic(notebook_chunks(nb), self.diverted_to)
        return None

    def _unchanged(self) -> bool:
        return _file_digest(self.path) == self._expected


def _hashed(chunks: Iterable[str], update: Callable[[bytes], object]) -> Iterator[str]:
    """*chunks* unchanged, each fed to *update* UTF-8 encoded (as atomic writes encode them, ``\\n`` kept)."""
    for chunk in chunks:
        update(chunk.encode("utf-8"))
        yield chunk
