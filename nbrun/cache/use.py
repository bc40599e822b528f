"""What the execution cache did for one run: the ``ExecutionResult.reports["cache"]`` entry."""

from __future__ import annotations

from dataclasses import dataclass

REPORT_NAME = "cache"


@dataclass(frozen=True)
class CacheUse:
    """The key the run is stored under, and whether it was replayed from there rather than run."""

    key: str
    replayed: bool
