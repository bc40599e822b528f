"""What the execution cache did for one run: the ``ExecutionResult.reports["cache"]`` entry."""

from __future__ import annotations

from dataclasses import dataclass

REPORT_NAME = "cache"


@dataclass(frozen=True)
class CacheUse:
    """The key the run is stored under, and whether it was replayed from there rather than run.

    ``rerun`` says why a run stored under the key was not replayed (``data/sales.csv changed``);
    ``recorded`` is False when the kernel (not Python) could not record what it read, so only the
    key's declared inputs count.
    """

    key: str
    replayed: bool
    rerun: str | None = None
    recorded: bool = True
