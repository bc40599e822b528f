"""``nbrun.read_results``: the recorded values of a run, from an executed notebook, a run record or a result."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from ..result import ExecutionResult
from .scraps import recorded_values


def read_results(source: str | os.PathLike[str] | Mapping[str, Any] | ExecutionResult) -> dict[str, Any]:
    """The values a run recorded.

    * an executed notebook (``.ipynb`` path) or an :class:`ExecutionResult`: ``{name: value}``;
    * a JSON run record (``--json``; a path or the loaded mapping): ``{notebook input: {name: value}}``.
    """
    if isinstance(source, ExecutionResult):
        return source.values
    if isinstance(source, Mapping):
        return _from_record(source)
    path = Path(source)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    if isinstance(data, dict) and "notebooks" in data and "cells" not in data:
        return _from_record(data)
    return recorded_values(nbformat.reads(text, as_version=4)).as_dict()


def _from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    notebooks = record.get("notebooks")
    if not isinstance(notebooks, list):
        raise ValueError("not a run record: it has no notebooks list")
    return {
        str(entry.get("input")): {name: item.get("value") for name, item in (entry.get("values") or {}).items()}
        for entry in notebooks
        if isinstance(entry, Mapping)
    }
