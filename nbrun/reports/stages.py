"""The reports feature's pipeline stages: papermill's metadata, report mode (inputs hidden), the HTML page."""

from __future__ import annotations

import copy

from ..pipeline.core import Prepared
from ..result import ExecutionResult
from ..storage.locations import where_name
from .hide_inputs import hide_code_inputs
from .papermill_metadata import write_papermill_metadata


def papermill_metadata_stage(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """Post-process stage: ``metadata.papermill`` on the notebook and its cells, as papermill writes it."""
    write_papermill_metadata(result, prepared.run.source, prepared.run.target)
    return result


def report_mode_stage(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """Post-process stage: with ``file.report_mode``, hide code inputs (``metadata.jupyter.source_hidden``).

    Not in a notebook written back to its source: that would hide the
    source's code for good. Its HTML page hides them all the same.
    """
    if prepared.run.file.report_mode and not prepared.run.in_place:
        hide_code_inputs(result.notebook)
    return result


def html_stage(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """After-write stage: with ``file.write_html``, the notebook's HTML beside it (failed runs too)."""
    if not prepared.run.file.write_html:
        return result
    from .html_export import write_notebook_html  # nbconvert is imported only when asked

    page = result.notebook
    if prepared.run.file.report_mode and prepared.run.in_place:  # the page hides what the source keeps
        page = copy.deepcopy(page)
        hide_code_inputs(page)
    written = write_notebook_html(page, prepared.run.target, allow_scripts=prepared.run.file.html_allow_scripts)
    return result.with_report("html", where_name(written))
