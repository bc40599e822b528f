"""Normalising executed notebooks so runs can be compared (goldens, nbclient)."""

from __future__ import annotations

import re
from typing import Any

import click
from nbformat import NotebookNode

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,16}")
_IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


def normalized_cells(nb: NotebookNode) -> list[dict[str, Any]]:
    """Per code cell: execution count and outputs with volatile parts masked."""
    return [
        {"execution_count": cell.get("execution_count"), "outputs": normalized_outputs(cell.get("outputs", []))}
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


def normalized_outputs(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for output in outputs:
        output = dict(output)
        if output["output_type"] == "stream":
            text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
            if merged and merged[-1]["output_type"] == "stream" and merged[-1]["name"] == output["name"]:
                merged[-1]["_raw"] += text
                continue
            merged.append({"output_type": "stream", "name": output["name"], "_raw": text})
            continue
        if output["output_type"] in ("display_data", "execute_result"):
            output["data"] = {mime: _mask_data(mime, value) for mime, value in output.get("data", {}).items()}
            output["metadata"] = dict(output.get("metadata", {}))
        if output["output_type"] == "error":
            output["traceback"] = [_mask(click.unstyle(line)) for line in output.get("traceback", [])]
            output["evalue"] = _mask(output.get("evalue", ""))
        merged.append(output)
    for output in merged:
        if "_raw" in output:
            output["text"] = _mask(terminal_view(output.pop("_raw")))
    return merged


def terminal_view(text: str) -> str:
    """``\r`` and ``\b`` applied one character at a time: a reference independent of nbrun.execution.terminal."""
    lines: list[str] = []
    line: list[str] = []
    cursor = 0
    for char in text.replace("\r\n", "\n"):
        if char == "\n":
            lines.append("".join(line))
            line, cursor = [], 0
        elif char == "\r":
            cursor = 0
        elif char == "\b":
            cursor = max(cursor - 1, 0)
        else:
            if cursor < len(line):
                line[cursor] = char
            else:
                line.append(char)
            cursor += 1
    return "\n".join([*lines, "".join(line)])


def _mask_data(mime: str, value: Any) -> Any:
    if mime in _IMAGE_MIMES:
        return f"<{mime}>"
    if isinstance(value, list):
        value = "".join(value)
    return _mask(value) if isinstance(value, str) else value


def _mask(text: str) -> str:
    return _ADDRESS.sub("0xADDR", text)
