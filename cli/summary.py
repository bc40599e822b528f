"""The end-of-batch summary table."""

from __future__ import annotations

from nbrun.batch import BatchOutcome

_LABELS = {"kernel-died": "kernel died", "kernel-failed": "no kernel", "io-error": "I/O error"}


def summary_table(outcomes: list[BatchOutcome], duration: float) -> str:
    """A plain-text table: notebook, status, duration, failing cell, error line; then totals."""
    rows = [("NOTEBOOK", "STATUS", "TIME", "CELL", "ERROR")]
    for outcome in outcomes:
        result = outcome.result
        cell = "" if result is None or result.failed_cell is None else str(result.failed_cell)
        error = "" if outcome.ok else _first_line(outcome.summary())
        label = _LABELS.get(outcome.status, outcome.status) + (" (cached)" if _cached(outcome) else "")
        rows.append((str(outcome.job.source), label, f"{outcome.duration:.2f}s", cell, error))
    widths = [min(max(len(row[i]) for row in rows), 60) for i in range(4)]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row[:4], widths)) + "  " + row[4] for row in rows]
    counts: dict[str, int] = {}
    for outcome in outcomes:
        label = _LABELS.get(outcome.status, outcome.status)
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
