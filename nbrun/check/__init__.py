"""Output checks: run a notebook and compare its new outputs with the stored ones (nbval's job).

``nbrun.check.run.check_file(path, options, check)`` runs one notebook and
returns its ExecutionResult with ``result.check`` (a CheckReport) set.
"""

from __future__ import annotations

from .compare import check_notebook, compare_cell
from .markers import CellMarkers, cell_markers, prepare_for_run
from .model import BUILTIN_SANITIZERS, CellMismatch, CheckOptions, CheckReport
from .report import render, summary_line
from .sanitize import SanitizerFileError, read_sanitizer_file

__all__ = [
    "BUILTIN_SANITIZERS",
    "CellMarkers",
    "CellMismatch",
    "CheckOptions",
    "CheckReport",
    "SanitizerFileError",
    "cell_markers",
    "check_notebook",
    "compare_cell",
    "prepare_for_run",
    "read_sanitizer_file",
    "render",
    "summary_line",
]
