"""The check report as text (stderr, pytest failures, JUnit)."""

from __future__ import annotations

from .model import CheckReport


def summary_line(report: CheckReport) -> str:
    """One line: how many cells differ, or that everything matched."""
    cells = report.mismatched_cells
    if not cells:
        return f"outputs match, {len(report.compared)} cell{'s' if len(report.compared) != 1 else ''} compared"
    listed = ", ".join(str(cell) for cell in cells)
    return f"outputs differ in {len(cells)} of {len(report.compared)} compared cells (cell {listed})"


def render(report: CheckReport, notebook: str, *, indent: str = "") -> str:
    """Every mismatch: notebook, cell index and In [n], output kind, then the diff or pixel figures."""
    lines = []
    for mismatch in report.mismatches:
        lines.append(f"{indent}{notebook}: {mismatch.where}: {mismatch.message}")
        for detail in mismatch.diff.splitlines():
            lines.append(f"{indent}    {detail}")
    return "\n".join(lines)
