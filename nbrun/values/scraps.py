"""The values an executed notebook recorded, read from its outputs as scrapbook reads them.

scrapbook's scraps (``application/scrapbook.scrap.<encoder>+json``, JSON and
text encoders) and papermill's older records (``application/papermill.record/<mime>``)
count; a value recorded again under the same name replaces the earlier one, as in
scrapbook. Scraps of other encoders (pandas/arrow) are not JSON and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode

SCRAP_PREFIX = "application/scrapbook.scrap."
RECORD_PREFIX = "application/papermill.record/"
REPORT_NAME = "values"  # the ExecutionResult.reports entry that carries RecordedValues


@dataclass(frozen=True)
class RecordedValue:
    """One value a notebook recorded: its name, the value, and the index of the cell that recorded it."""

    name: str
    value: Any
    cell: int

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "cell": self.cell}


@dataclass(frozen=True)
class RecordedValues:
    """The values of one run, in the order first recorded (the last value under a name wins)."""

    values: tuple[RecordedValue, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """``{name: value}``."""
        return {item.name: item.value for item in self.values}

    def to_json(self) -> dict[str, dict[str, Any]]:
        """``{name: {"value": ..., "cell": index}}``: the JSON record's ``values``."""
        return {item.name: item.to_json() for item in self.values}

    def __bool__(self) -> bool:
        return bool(self.values)


def recorded_values(nb: NotebookNode) -> RecordedValues:
    """Every value *nb*'s outputs recorded."""
    found: dict[str, RecordedValue] = {}
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            for name, value in _scraps_of(output):
                found[name] = RecordedValue(name, value, index)
    return RecordedValues(tuple(found.values()))


def _scraps_of(output: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if output.get("output_type") not in ("display_data", "execute_result", "update_display_data"):
        return
    data = output.get("data")
    if not isinstance(data, Mapping):
        return
    for mime, payload in data.items():
        if mime.startswith(SCRAP_PREFIX):
            scrap = _scrap(mime, payload)
            if scrap is not None:
                yield scrap
        elif mime.startswith(RECORD_PREFIX) and isinstance(output.get("metadata"), Mapping):
            name = output["metadata"].get("papermill", {}).get("name")
            if isinstance(name, str):
                yield name, payload


def _scrap(mime: str, payload: Any) -> tuple[str, Any] | None:
    """(name, value) of a scrapbook payload with a JSON or text encoder, else None."""
    encoder = mime[len(SCRAP_PREFIX) :].split("+", 1)[0]
    if not isinstance(payload, Mapping) or not isinstance(payload.get("name"), str) or encoder not in ("json", "text"):
        return None
    value = payload.get("data")
    if encoder == "json" and isinstance(value, str):  # scrapbook's JSON encoder stores JSON text as it came
        try:
            value = json.loads(value)
        except ValueError:
            pass
    return payload["name"], value
