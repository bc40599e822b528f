"""The run cache's folder layout, readable without importing the cache (which imports nbformat).

The front end asks :func:`may_hold_entries` before anything else is
imported: a store that certainly holds no entry will miss every lookup, so
the fork template can boot while the rest of nbrun is imported, as it does
without a cache.
"""

from __future__ import annotations

import os
from pathlib import Path

STORE_FOLDER = "nbrun-cache-1"
SUFFIX = ".nbrun"


def may_hold_entries(directory: Path) -> bool:
    """False only when the store under *directory* has no entry folder at all (missing, or never filled)."""
    try:
        with os.scandir(directory / STORE_FOLDER) as entries:
            return any(len(entry.name) == 2 and entry.is_dir() for entry in entries)
    except OSError:
        return False
