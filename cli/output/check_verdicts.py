"""How ``nbrun check`` tells its verdicts: per-notebook lines on stderr and JUnit details."""

from __future__ import annotations

from nbrun.check.model import CheckReport
from nbrun.check.verdict_text import render
from nbrun.storage.locations import Where


def check_lines(source: Where, report: CheckReport) -> str:
    """The stderr lines for one checked notebook: verdict, then each mismatch with its diff."""
    if report.matches:
        return f"nbrun: ok {source} ({report.summary_line()})"
    details = render(report, str(source), indent="    ")
    if report.updated:
        cells = len(report.mismatched_cells)
        return f"nbrun: updated {source}: new outputs written in {cells} cell{'s' if cells != 1 else ''}\n{details}"
    lines = [f"nbrun: MISMATCH {source}: {report.summary_line()}", details]
    if report.update_error:
        lines.append(f"nbrun: error: {report.update_error}")
    return "\n".join(lines)


def check_details(source: Where, report: CheckReport) -> str:
    """The failure text of a JUnit testcase: the summary and every diff."""
    text = f"{report.summary_line()}\n\n{render(report, str(source))}"
    return text + (f"\n\n{report.update_error}" if report.update_error else "")
