"""A check verdict's mismatches as text (stderr, pytest failures, JUnit); its one line is ``CheckReport.summary_line``."""

from __future__ import annotations

from .model import CheckReport


def render(report: CheckReport, notebook: str, *, indent: str = "") -> str:
    """Every mismatch: notebook, cell index and In [n], output kind, then the diff or pixel figures."""
    lines = []
    for mismatch in report.mismatches:
        lines.append(f"{indent}{notebook}: {mismatch.where}: {mismatch.message}")
        for detail in mismatch.diff.splitlines():
            lines.append(f"{indent}    {detail}")
    return "\n".join(lines)
