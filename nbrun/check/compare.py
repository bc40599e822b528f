"""Comparing the outputs of one cell, and of a whole notebook.

Outputs are flattened by kind, as nbval does: streams merged per name (with
``\\r``/``\\b`` applied), each MIME type of display data and results, and
errors (``ename: evalue``). Each kind's values are compared in order; the
relative order of different kinds is not. Execution counts, metadata,
tracebacks, transient display ids and widget model ids are never compared.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from nbformat import NotebookNode

from ..execution.terminal import TerminalText
from .markers import cell_markers, code_cells
from .model import CellMismatch, CheckOptions, CheckReport
from .sanitize import Sanitizer

NEVER_COMPARED = frozenset({"application/vnd.jupyter.widget-view+json"})
MAX_DIFF_LINES = 200
_DIFF_LIMIT = 20_000  # lines on both sides together
_SVG_NS = "http://www.w3.org/2000/svg"

Flat = dict[str, list[Any]]


def is_raster(kind: str) -> bool:
    return kind.startswith("image/") and kind != "image/svg+xml"


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    if isinstance(value, (dict, bool, int, float)) or value is None:
        return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)
    return str(value)


def _canonical_svg(text: str) -> str:
    """The SVG as canonical XML: attribute order, insignificant whitespace and <metadata> do not count."""
    try:
        canonical = ElementTree.canonicalize(text, strip_text=True, exclude_tags=[f"{{{_SVG_NS}}}metadata", "metadata"])
    except ElementTree.ParseError:
        return text
    return canonical.replace("><", ">\n<")


def flatten(outputs: list[NotebookNode], sanitize: Callable[[str], str], *, ignore_stderr: bool) -> Flat:
    """The outputs of one cell, by kind, each value ready to compare."""
    flat: Flat = {}
    streams: dict[str, TerminalText] = {}
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            name = str(output.get("name", "stdout"))
            flat.setdefault(name, [])  # kinds keep the order in which they first appear
            streams.setdefault(name, TerminalText()).feed(_text(output.get("text", "")))
        elif kind == "error":
            value = f"{output.get('ename', '')}: {output.get('evalue', '')}"
            flat.setdefault("error", []).append(sanitize(value))
        elif kind in ("display_data", "execute_result"):
            for mime, data in output.get("data", {}).items():
                if mime in NEVER_COMPARED:
                    continue
                if is_raster(mime):
                    flat.setdefault(mime, []).append(data)
                elif mime == "image/svg+xml":
                    flat.setdefault(mime, []).append(_canonical_svg(sanitize(_text(data))))
                else:
                    flat.setdefault(mime, []).append(sanitize(_text(data)))
    for name, text in streams.items():
        if name == "stderr" and ignore_stderr:
            del flat[name]
        else:
            flat[name] = [sanitize(text.value())]
    return flat


def unified_diff(expected: str, got: str) -> str:
    """expected -> got as a unified diff, at most MAX_DIFF_LINES lines."""
    old, new = expected.splitlines(), got.splitlines()
    if len(old) + len(new) > _DIFF_LIMIT:  # difflib is slow on huge texts: show the first difference only
        first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
        start = max(0, first - 3)
        old, new = old[start : first + 20], new[start : first + 20]
        lines = [f"(outputs too long for a full diff; from line {start + 1})"]
        lines += list(difflib.unified_diff(old, new, "expected", "got", lineterm=""))
    else:
        lines = list(difflib.unified_diff(old, new, "expected", "got", lineterm=""))
    if not lines and expected != got:  # differ only in a trailing newline
        lines = ["--- expected", "+++ got", f"-{expected!r}", f"+{got!r}"]
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"... {len(lines) - MAX_DIFF_LINES} more diff lines"]
    return "\n".join(lines)


def _join(values: list[Any]) -> str:
    return "\n--- next output ---\n".join(values)


def compare_cell(
    index: int, stored: NotebookNode, executed: NotebookNode, options: CheckOptions, sanitize: Callable[[str], str]
) -> list[CellMismatch]:
    """The mismatches between a stored code cell and its new run (empty when they match)."""
    ignore_stderr = options.ignore_stderr_tag in stored.get("metadata", {}).get("tags", [])
    expected = flatten(stored.get("outputs", []), sanitize, ignore_stderr=ignore_stderr)
    got = flatten(executed.get("outputs", []), sanitize, ignore_stderr=ignore_stderr)
    count = stored.get("execution_count")
    mismatches = []
    for kind in list(expected) + [k for k in got if k not in expected]:
        old, new = expected.get(kind, []), got.get(kind, [])
        if not old:
            what = f"unexpected {kind} output"
        elif not new:
            what = f"{kind} output missing"
        elif len(old) != len(new):
            what = f"{len(old)} {kind} outputs expected, got {len(new)}"
        else:
            what = f"{kind} differs"
        if is_raster(kind):
            if len(old) != len(new):
                mismatches.append(CellMismatch(index, count, kind, what))
            elif options.compare_images:
                mismatches += _pixel_mismatches(index, count, kind, old, new, options.image_tolerance)
        elif old != new:
            mismatches.append(CellMismatch(index, count, kind, what, unified_diff(_join(old), _join(new))))
    return mismatches


def _pixel_mismatches(
    index: int, count: int | None, kind: str, old: list[Any], new: list[Any], tolerance: int
) -> list[CellMismatch]:
    from .pixels import compare_pixels

    found = []
    for position, (left, right) in enumerate(zip(old, new)):
        verdict = compare_pixels(left, right, tolerance)
        if not verdict.equal:
            which = f" (image {position + 1} of {len(old)})" if len(old) > 1 else ""
            found.append(CellMismatch(index, count, kind, f"{kind} pixels differ{which}", verdict.describe()))
    return found


def never_run(cell: NotebookNode) -> bool:
    """Stored without outputs and without an execution count: nothing to compare against."""
    return cell.get("execution_count") is None and not cell.get("outputs")


def check_notebook(expected: NotebookNode, executed: NotebookNode, options: CheckOptions) -> CheckReport:
    """Compare every code cell of the stored notebook with the same cell after the run.

    Cells pair up by position among code cells (an ``injected-parameters``
    cell is left out on both sides). Cells marked skip, ignore-output (or, in
    lax mode, unmarked), cells the executor skipped and cells never run when
    saved are not compared.
    """
    sanitize = Sanitizer(options.patterns, options.sanitizers)
    stored_cells, new_cells = code_cells(expected), code_cells(executed)
    if len(stored_cells) != len(new_cells):
        raise ValueError(f"the notebooks have {len(stored_cells)} and {len(new_cells)} code cells")
    compared, ignored, skipped, mismatches = [], [], [], []
    for (index, stored), (_, new) in zip(stored_cells, new_cells):
        markers = cell_markers(stored)
        ran = new.get("execution_count") is not None or bool(new.get("outputs"))
        if markers.skip or not ran:
            skipped.append(index)
        elif not markers.compares(options.lax) or never_run(stored):
            ignored.append(index)
        else:
            compared.append(index)
            mismatches += compare_cell(index, stored, new, options, sanitize)
    nothing_stored = not any(cell.get("outputs") or cell.get("execution_count") is not None for _, cell in stored_cells)
    return CheckReport(
        tuple(compared),
        tuple(ignored),
        tuple(skipped),
        tuple(mismatches),
        nothing_stored=nothing_stored,
        outputs_required=options.require_outputs,
    )
