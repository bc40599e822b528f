"""The end-of-batch summary table."""

from __future__ import annotations

from nbrun.runners.batch import BatchOutcome
from nbrun.storage.locations import printable

from .notices import status_label


def summary_table(outcomes: list[BatchOutcome], duration: float) -> str:
    """A plain-text table: notebook, status, duration, failing cell, error line; then totals."""
    rows = [("NOTEBOOK", "STATUS", "TIME", "CELL", "ERROR")]
    sources = [outcome.job.source for outcome in outcomes]
    for outcome in outcomes:
        repeated = sources.count(outcome.job.source) > 1  # --params-grid: tell the runs apart by output
        result = outcome.result
        cell = (
            ""
            if result is None or result.failed_cell is None
            else f"{result.failed_cell + 1} (index {result.failed_cell})"
        )
        if result is not None and result.check is not None and not result.check.passed:  # nbrun check
            first = result.check.mismatched_cells[0]
            cell = f"{first + 1} (index {first})"
        error = "" if outcome.ok else _first_line(outcome.summary())
        label = status_label(outcome, outcome.status.label) + (" (cached)" if _cached(outcome) else "")
        rows.append(
            (
                printable(str(outcome.job.target if repeated else outcome.job.source)),
                label,
                "-" if outcome.timed is None else f"{outcome.timed:.2f}s",
                cell,
                printable(error),
            )
        )
    widths = [min(max(len(row[i]) for row in rows), 60) for i in range(4)]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row[:4], widths)) + "  " + row[4] for row in rows]
    counts: dict[str, int] = {}
    for outcome in outcomes:
        label = outcome.status.label
        counts[label] = counts.get(label, 0) + 1
    totals = ", ".join(f"{count} {label}" for label, count in counts.items())
    cached = sum(1 for outcome in outcomes if _cached(outcome))
    totals += f" ({cached} from the cache)" if cached else ""
    lines.append(f"{len(outcomes)} notebooks: {totals} in {duration:.2f} s")
    return "\n".join(line.rstrip() for line in lines)


def _cached(outcome: BatchOutcome) -> bool:
    return outcome.result is not None and outcome.result.cached


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 100 else line[:97] + "..."
