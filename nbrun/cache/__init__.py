"""The execution cache: skip notebooks whose outputs cannot have changed.

``key`` computes what a run depends on, ``environment`` finds the kernel's
interpreter and packages, ``store`` keeps runs as plain files, ``runs``
looks up, replays and stores around one file run; ``reads`` re-checks what
a stored run read beyond its key (editable installs' files, environment
variables) and ``entry_shape`` that a stored run is one this nbrun can replay.
"""

from __future__ import annotations

from ..errors import CorruptEntryError
from ..options import CacheSettings
from .key import CacheKey, compute_key
from .runs import CacheLookup, look_up, notebook_key, replay
from .store import CacheStore, EntryInfo, StoredRun

__all__ = [
    "CacheKey",
    "CacheLookup",
    "CacheSettings",
    "CacheStore",
    "CorruptEntryError",
    "EntryInfo",
    "StoredRun",
    "compute_key",
    "look_up",
    "notebook_key",
    "replay",
]
