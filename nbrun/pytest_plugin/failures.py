"""What a failed notebook test shows: notebook, cell (index and In [n]), source, traceback, output."""

from __future__ import annotations

from pathlib import Path

from _pytest._code.code import ReprEntryNative, ReprExceptionInfo, ReprFileLocation, ReprTraceback
from nbformat import NotebookNode

from nbrun.execution.cell_label import cell_label, notebook_cell_label
from nbrun.reports.ansi_html import strip_ansi
from nbrun.result import CellStatus, ExecutionResult

IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError")


class NotebookTestFailure(Exception):
    """A notebook test failed; ``text`` is the full report (may hold ANSI colour)."""

    def __init__(self, summary: str, text: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.text = text


def failure_repr(failure: NotebookTestFailure, path: Path, *, colour: bool) -> ReprExceptionInfo:
    """The failure as pytest's own report type, which xdist carries between processes whole.

    ``reprcrash.message`` is the one-line summary pytest shows in ``-ra`` lines
    and JUnit's ``message`` (a custom repr would reach the controller as a
    string under ``-n 2``, and the summary line would lose the error).
    """
    text = failure.text if colour else strip_ansi(failure.text)
    lines = [line + "\n" for line in text.rstrip("\n").splitlines()]
    return ReprExceptionInfo(
        reprtraceback=ReprTraceback([ReprEntryNative(lines)], None, "native"),
        reprcrash=ReprFileLocation(str(path), 0, failure.summary),
    )


def describe_failure(path: Path, result: ExecutionResult) -> NotebookTestFailure:
    """The report for a run whose status is not ok."""
    index = result.failed_cell
    if index is None:
        return NotebookTestFailure(str(result.message), f"notebook: {path}\n{result.message}")
    return _cell_failure(path, result.notebook, index, result.message or "failed")


def describe_import_errors(path: Path, result: ExecutionResult) -> NotebookTestFailure | None:
    """--nbrun-find-import-errors: the first cell that raised an import error, if any."""
    for record in result.cells:
        if record.status is CellStatus.ERROR and record.ename in IMPORT_ERRORS:
            message = f"{cell_label(record.index, record.execution_count)} raised {record.ename}: {record.evalue}"
            return _cell_failure(path, result.notebook, record.index, message)
    return None


def _cell_failure(path: Path, nb: NotebookNode, index: int, message: str) -> NotebookTestFailure:
    cell = nb.cells[index]
    label = notebook_cell_label(nb, index)
    headline = message if message.startswith(label.split(" (")[0] + " (index ") else f"{label}: {message}"
    tracebacks = [
        "\n".join(str(line) for line in o.get("traceback", []))
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    parts = [f"notebook: {path}", headline, "", f"---- source of {label} ----", cell.get("source", "").rstrip()]
    if tracebacks:
        parts += ["", "---- traceback ----", *tracebacks]
    return NotebookTestFailure(headline, "\n".join(parts) + "\n")


def captured_streams(nb: NotebookNode) -> dict[str, str]:
    """The cells' stdout and stderr text, in cell order (for pytest's captured-output sections)."""
    streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            name = output.get("name")
            if output.get("output_type") == "stream" and name in streams:
                text = output.get("text", "")
                streams[name].append(text if isinstance(text, str) else "".join(text))
    return {name: "".join(parts) for name, parts in streams.items() if parts}
