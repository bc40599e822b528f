"""Progress events a caller can observe (the library itself never prints)."""

from __future__ import annotations

from nbformat import NotebookNode

from .result import CellRecord, ExecutionResult


class ExecutionObserver:
    """Receives events while a notebook runs; every method is a no-op here.

    Subclass and override what you need (the CLI draws a progress bar and
    streams ``--log-output`` from these).
    """

    def notebook_started(self, code_cells: int) -> None:
        """The kernel is ready; *code_cells* cells will be considered."""

    def cell_started(self, index: int, cell: NotebookNode) -> None:
        """Cell *index* was sent to the kernel."""

    def cell_finished(self, record: CellRecord) -> None:
        """A code cell ran, was skipped or will not run."""

    def stream_text(self, index: int, name: str, text: str) -> None:
        """Cell *index* printed *text* on stream *name* (stdout/stderr)."""

    def warning(self, text: str) -> None:
        """Something the user should hear about (a timeout, a restart...)."""

    def notebook_finished(self, result: ExecutionResult) -> None:
        """The run is over."""
