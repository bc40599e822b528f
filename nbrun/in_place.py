"""The in-place edit guard: a run that writes back to its own source must not erase an edit made meanwhile.

The source's bytes are fingerprinted when the run reads it and compared just
before the final write; if they changed, the user's edit stays and the
executed notebook goes beside it as ``<stem>.nbrun-executed.ipynb``.
``--autosave`` rewrites during the run are not guarded (they are overwritten
by the final, guarded write).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DIVERTED_SUFFIX = ".nbrun-executed.ipynb"


def fingerprint(path: Path) -> str | None:
    """A digest of *path*'s bytes (None when it cannot be read: nothing to guard)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def diverted_target(path: Path, read_fingerprint: str | None) -> Path | None:
    """Where to write instead of *path* if it changed since it was read (None: write *path*)."""
    if read_fingerprint is None or fingerprint(path) == read_fingerprint:
        return None
    return path.with_name(path.name.removesuffix(".ipynb") + DIVERTED_SUFFIX)
