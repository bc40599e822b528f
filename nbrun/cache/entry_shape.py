"""The shape of a stored run (store format ``nbrun-cache-1``), checked before it is replayed.

A checksum proves an entry is whole, not that this nbrun wrote it: an entry
from another version, or edited by hand, may carry an extra field, an
unknown status or no cells. :func:`check_entry` says what does not fit
(ValueError), so the lookup treats it as a miss instead of crashing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nbformat import NotebookNode

from ..status import CellStatus, RunStatus

READS_VERSION = 2  # the shape of an entry's reads (cache.reads); entries of another shape run again once

STORED_STATUSES = (RunStatus.OK, RunStatus.ERROR)
_OPTIONAL_STR = (str, type(None))
_OPTIONAL_INT = (int, type(None))
_OPTIONAL_NUMBER = (int, float, type(None))
# The run record's fields besides "status" and "cells" (runs.result_record writes them all).
RECORD_FIELDS: dict[str, tuple[type, ...]] = {
    "kernel_name": _OPTIONAL_STR,
    "started_at": _OPTIONAL_STR,
    "finished_at": _OPTIONAL_STR,
    "duration": _OPTIONAL_NUMBER,
    "failed_cell": _OPTIONAL_INT,
    "ename": _OPTIONAL_STR,
    "evalue": _OPTIONAL_STR,
    "message": _OPTIONAL_STR,
    "kernel_output": _OPTIONAL_STR,
    "restarts": _OPTIONAL_INT,
    "interrupted_by": _OPTIONAL_STR,
}
# CellRecord.to_json's fields besides "index" and "status".
CELL_FIELDS: dict[str, tuple[type, ...]] = {
    "duration": _OPTIONAL_NUMBER,
    "execution_count": _OPTIONAL_INT,
    "ename": _OPTIONAL_STR,
    "evalue": _OPTIONAL_STR,
    "timed_out_after": _OPTIONAL_NUMBER,
    "note": _OPTIONAL_STR,
    "actions": (list,),
    "peak_memory": _OPTIONAL_INT,  # the figures of the run that was stored, kept on a replay
    "cpu_time": _OPTIONAL_NUMBER,
}
_CELL_STATUSES = tuple(status.value for status in CellStatus)


def check_entry(record: Mapping[str, Any], notebook: NotebookNode, reads: Any) -> None:
    """ValueError naming the first thing in a stored run that this nbrun would not have written."""
    _check_fields("the run record", record, RECORD_FIELDS, required=("status", "cells"))
    if record["status"] not in tuple(status.value for status in STORED_STATUSES):
        raise ValueError(f"the run record has the unknown status {record['status']!r}")
    if not isinstance(record["cells"], list):
        raise ValueError("the run record's cells are not a list")
    for number, cell in enumerate(record["cells"]):
        where = f"cell record {number}"
        _check_fields(where, cell, CELL_FIELDS, required=("index", "status"))
        if not isinstance(cell["index"], int) or cell["status"] not in _CELL_STATUSES:
            raise ValueError(f"{where} has index {cell['index']!r} and status {cell['status']!r}")
        if not all(isinstance(action, str) for action in cell.get("actions", [])):
            raise ValueError(f"{where} has actions that are not text")
    _check_notebook(notebook)
    if reads is not None:
        _check_reads(reads)


def _check_fields(where: str, data: Any, fields: Mapping[str, tuple[type, ...]], required: tuple[str, ...]) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} is not an object")
    missing = [name for name in required if name not in data]
    if missing:
        raise ValueError(f"{where} has no {', '.join(missing)}")
    extra = sorted(str(name) for name in data if name not in fields and name not in required)
    if extra:
        raise ValueError(f"{where} has the unexpected field {', '.join(map(repr, extra))}")
    for name, types in fields.items():
        if name in data and not isinstance(data[name], types):
            raise ValueError(f"{where}'s {name} is a {type(data[name]).__name__}")


def _check_notebook(notebook: Any) -> None:
    cells = notebook.get("cells") if isinstance(notebook, Mapping) else None
    if not isinstance(cells, list) or not isinstance(notebook.get("metadata", {}), Mapping):
        raise ValueError("the stored notebook has no cells")
    for number, cell in enumerate(cells):
        if not isinstance(cell, Mapping) or not isinstance(cell.get("cell_type"), str):
            raise ValueError(f"the stored notebook's cell {number} has no cell type")
        if (
            not isinstance(cell.get("outputs", []), list)
            or not isinstance(cell.get("metadata", {}), Mapping)
            or not isinstance(cell.get("execution_count"), _OPTIONAL_INT)
        ):
            raise ValueError(f"the stored notebook's cell {number} has outputs, metadata or count of another type")


def _check_reads(reads: Any) -> None:
    """The reads of an entry this nbrun wrote (cache.reads); an older shape is not an error but a re-run."""
    if not isinstance(reads, Mapping):
        raise ValueError("the stored reads are not an object")
    if reads.get("v") != READS_VERSION or not reads.get("recorded"):
        return
    env = reads.get("env")
    if not isinstance(env, Mapping) or not all(isinstance(value, str) for value in env.values()):
        raise ValueError("the stored environment reads are not digests")
    for name in ("files", "written"):
        states = reads.get(name)
        if not isinstance(states, Mapping) or not all(
            isinstance(state, Mapping) and isinstance(state.get("sha256"), _OPTIONAL_STR) for state in states.values()
        ):
            raise ValueError(f"the stored {name} reads have no content hashes")
    for name in ("listed", "globs"):
        if not isinstance(reads.get(name), Mapping):
            raise ValueError(f"the stored {name} reads are not an object")
    for name in ("network", "processes", "own"):
        if not isinstance(reads.get(name), list):
            raise ValueError(f"the stored {name} reads are not a list")
