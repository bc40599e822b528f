"""``--update``: write new outputs into the notebook as stored, nothing else changed.

Only the outputs and execution counts of the given code cells are replaced.
The file is re-serialised in the JSON style it was written in (indent, key
order, ASCII escaping, final newline, detected by a round trip; CRLF line ends), so every
other byte stays as it was; a style that does not round-trip falls back to
Jupyter's own (indent 1, sorted keys). The write is atomic.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nbformat import NotebookNode, from_dict
from nbformat.v4.rwbase import split_lines

from ..errors import NotebookWriteError
from ..storage.atomic import write_text_atomic
from .markers import code_cells

_STYLES = [
    {"indent": indent, "sort_keys": sort_keys, "ensure_ascii": ascii_only}
    for indent in (1, 2, 4, None, "\t")
    for sort_keys in (True, False)
    for ascii_only in (False, True)
]
_JUPYTER_STYLE = _STYLES[0]


def _dump(data: Any, style: dict[str, Any], newline: bool) -> str:
    return json.dumps(data, **style) + ("\n" if newline else "")


def _style_of(text: str, data: Any) -> tuple[dict[str, Any], bool]:
    newline = text.endswith("\n")
    for style in _STYLES:
        if _dump(data, style, newline) == text:
            return style, newline
    return _JUPYTER_STYLE, True


def _disk_outputs(cell: NotebookNode) -> list[Any]:
    """The cell's outputs as Jupyter stores them (text split into lines, no transient fields)."""
    holder = from_dict(
        {
            "cells": [
                {"cell_type": "code", "source": "", "metadata": {}, "outputs": copy.deepcopy(cell.get("outputs", []))}
            ]
        }
    )
    outputs = split_lines(holder)["cells"][0]["outputs"]
    for output in outputs:
        output.pop("transient", None)
    return [json.loads(json.dumps(output)) for output in outputs]


def accept_outputs(path: Path, stored_text: str, executed: NotebookNode, cells: Iterable[int]) -> int:
    """Write the executed notebook's outputs of *cells* (stored cell indexes) into *path*.

    *stored_text* is the file's text as read before the run; if the file has
    changed since, nothing is written. Returns the number of cells rewritten.
    Raises NotebookWriteError with a one-line reason.
    """
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise NotebookWriteError(path, f"cannot re-read for --update: {exc.strerror or exc}") from None
    if current != stored_text.encode("utf-8"):
        raise NotebookWriteError(path, "changed on disk during the check; not updated")
    crlf = "\r\n" in stored_text  # JSON escapes newlines in strings: every raw one ends a line
    body = stored_text.removeprefix("\ufeff").replace("\r\n", "\n")
    data = json.loads(body)
    if data.get("nbformat") != 4:
        raise NotebookWriteError(
            path, f"--update needs an nbformat 4 notebook, this one is nbformat {data.get('nbformat')}"
        )
    style, newline = _style_of(body, data)
    new_by_stored = dict(zip((index for index, _ in _code_indexes(data)), (cell for _, cell in code_cells(executed))))
    wanted = sorted(set(cells))
    for index in wanted:
        cell = data["cells"][index]
        new = new_by_stored[index]
        cell["outputs"] = _disk_outputs(new)
        cell["execution_count"] = new.get("execution_count")
    text = ("\ufeff" if stored_text.startswith("\ufeff") else "") + _dump(data, style, newline)
    if crlf:
        text = text.replace("\n", "\r\n")
    write_text_atomic(text, path)
    return len(wanted)


def _code_indexes(data: dict[str, Any]) -> list[tuple[int, Any]]:
    return [
        (index, cell)
        for index, cell in enumerate(data.get("cells", []))
        if cell.get("cell_type") == "code" and "injected-parameters" not in cell.get("metadata", {}).get("tags", [])
    ]
