"""``--restart-on-death``: the run goes on after a kernel death, but its status says so."""

from __future__ import annotations

from collections.abc import Sequence

from ..result import CellRecord, CellStatus, Failure, RunStatus
from .cell_label import cell_label


def restart_failure(records: Sequence[CellRecord], failure: Failure | None) -> Failure | None:
    """The run's failure, or ``kernel-died`` when a kernel died and was restarted and nothing worse happened.

    A run that recovered by restarting its kernel lost the state of earlier
    cells, so it is not ``ok``: it reports the first death (exit code 4).
    """
    if failure is not None and failure.status is not RunStatus.OK:
        return failure
    died = [record for record in records if record.status is CellStatus.KERNEL_DIED and "restarted" in record.actions]
    if not died:
        return failure
    first = died[0]
    times = f"{len(died)} times" if len(died) > 1 else "once"
    how = (first.note or "").removeprefix("kernel died: ") or "unknown cause"
    message = (
        f"kernel died in {cell_label(first.index, first.execution_count)}: {how}; "
        f"restarted {times}, later cells ran in a fresh kernel"
    )
    return Failure(RunStatus.KERNEL_DIED, first, message)
