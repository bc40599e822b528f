"""The ``.ipynb`` format: parse bytes into a validated nbformat-4 node, and serialise it as Jupyter does.

No file access here: reading and writing files is ``notebook_files``.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from collections.abc import Iterator
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from ..errors import NotebookReadError
from . import schema_check

_SUPPORTED_MAJORS = (3, 4)


def parse_notebook(raw: bytes | str, path: Path | str | None = None) -> NotebookNode:
    """Parse notebook bytes or text into a validated nbformat-4 node."""
    text = decode_utf8(raw, path) if isinstance(raw, bytes) else raw
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookReadError(path, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise NotebookReadError(path, "not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise NotebookReadError(path, f"not valid JSON ({_value_problem(exc)})") from None
    if _LONE_SURROGATE_HINT.search(text) and _has_lone_surrogate(data):
        raise NotebookReadError(
            path, "not a valid notebook: a string holds an unpaired UTF-16 surrogate escape (\\udXXX)"
        )
    return _to_notebook(data, path)


_LONE_SURROGATE_HINT = re.compile(r"\\u[dD][89a-fA-F]")


def _value_problem(exc: ValueError) -> str:
    if "integer string conversion" in str(exc):
        return f"an integer has more than {sys.get_int_max_str_digits()} digits"
    return _first_line(str(exc)) or type(exc).__name__


def decode_utf8(raw: bytes, path: Path | str | None) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookReadError(path, f"not UTF-8 text (bad byte at offset {exc.start})") from None


def _has_lone_surrogate(data: Any) -> bool:
    """True if a decoded string cannot be written back as UTF-8."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _to_notebook(data: Any, path: Path | str | None) -> NotebookNode:
    if not isinstance(data, dict):
        raise NotebookReadError(path, f"not a notebook (the JSON top level is a {type(data).__name__})")
    major = data.get("nbformat")
    if not isinstance(major, int) or isinstance(major, bool):
        raise NotebookReadError(path, "not a notebook (no integer 'nbformat' field)")
    if major not in _SUPPORTED_MAJORS:
        raise NotebookReadError(path, f"unsupported nbformat version {major} (nbrun reads 3 and 4)")
    nb: NotebookNode
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            minor = data.get("nbformat_minor", 0)
            nb = nbformat.versions[major].to_notebook_json(data, minor=minor)
            nb = nbformat.convert(nb, 4)
            schema_check.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookReadError(path, f"not a valid notebook: {_first_line(exc.message)}") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many types on malformed input
        raise NotebookReadError(path, f"not a valid notebook: {_first_line(str(exc)) or type(exc).__name__}") from None
    problem = _structural_problem(nb)
    if problem:
        raise NotebookReadError(path, f"not a valid notebook: {problem}")
    return nb


def _structural_problem(nb: NotebookNode) -> str | None:
    """Catch what schema validation lets through but execution relies on."""
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return "'cells' is missing or not a list"
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("source"), str):
            return f"cell {index} has no text source"
        if cell.get("cell_type") == "code" and not isinstance(cell.get("outputs"), list):
            return f"cell {index} has no outputs list"
        if not isinstance(cell.get("metadata", {}), dict):
            return f"cell {index} metadata is not a mapping"
    if not isinstance(nb.get("metadata"), dict):
        return "notebook metadata is not a mapping"
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""


_SPLIT_MIMES = {"application/javascript", "image/svg+xml"}
_TRANSIENT_METADATA = ("orig_nbformat", "orig_nbformat_minor", "signature")


def _encoder() -> json.JSONEncoder:
    return json.JSONEncoder(indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": "), default=_encode_bytes)


def _encode_bytes(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _split_bundle(bundle: dict[str, Any], big: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        mime: _lines(value, big)
        if isinstance(value, str) and (mime.startswith("text/") or mime in _SPLIT_MIMES)
        else value
        for mime, value in bundle.items()
    }


def _lines(text: str, big: dict[str, str] | None) -> list[str]:
    """*text* as Jupyter's list of lines; huge lines as placeholders (escaped in slices when written)."""
    lines = text.splitlines(True)
    return lines if big is None else [_placeholder(line, big) for line in lines]


def _disk_view(nb: NotebookNode, big: dict[str, str]) -> dict[str, Any]:
    """The notebook as Jupyter stores it (multi-line text as lists of lines), sharing its data.

    Unlike nbformat's writer this copies no payload: containers are copied
    shallowly and strings are only split into lines.
    """
    view = dict(nb)
    view["metadata"] = {k: v for k, v in nb.metadata.items() if k not in _TRANSIENT_METADATA}
    cells = []
    for cell in nb.cells:
        disk = dict(cell)
        if isinstance(disk.get("source"), str):
            disk["source"] = _lines(disk["source"], big)
        if "trusted" in cell.get("metadata", {}):
            disk["metadata"] = {k: v for k, v in cell.metadata.items() if k != "trusted"}
        if isinstance(cell.get("attachments"), dict):
            disk["attachments"] = {name: _split_bundle(bundle) for name, bundle in cell.attachments.items()}
        if cell.get("cell_type") == "code":
            disk["outputs"] = [_disk_output(output, big) for output in cell.get("outputs", [])]
        cells.append(disk)
    view["cells"] = cells
    return view


def _disk_output(output: dict[str, Any], big: dict[str, str]) -> dict[str, Any]:
    disk = dict(output)
    if output.get("output_type") in ("execute_result", "display_data") and isinstance(output.get("data"), dict):
        disk["data"] = _split_bundle(output["data"], big)
    elif output.get("output_type") == "stream" and isinstance(output.get("text"), str):
        disk["text"] = [_placeholder(line, big) for line in output["text"].splitlines(True)]
    return disk


_BIG_STRING = 1 << 20
_SLICE = 1 << 18
_TOKEN_MARK = "\\u0000nbrun-big-"  # how the encoder writes the start of a placeholder


def notebook_chunks(nb: NotebookNode) -> Iterator[str]:
    """The notebook's JSON, byte-identical to nbformat's writer, produced piece by piece.

    Strings over 1 MiB (a huge stream output) are escaped and written in
    slices, so no second full copy of them is ever made.
    """
    big: dict[str, str] = {}
    view = _disk_view(nb, big)
    for chunk in _encoder().iterencode(view):
        token = next((t for t in big if t in chunk), None) if big and _TOKEN_MARK in chunk else None
        if token is None:
            yield chunk
            continue
        before, after = chunk.split(token, 1)
        yield before + '"'
        text = big[token]
        for start in range(0, len(text), _SLICE):
            yield encode_basestring(text[start : start + _SLICE])[1:-1]
        yield '"' + after
    yield "\n"


def _placeholder(value: str, big: dict[str, str]) -> str:
    """Swap a huge string for a short unique token the encoder passes through."""
    if len(value) < _BIG_STRING:
        return value
    token = f"\x00nbrun-big-{len(big)}-{id(value)}\x00"
    big[encode_basestring(token)] = value
    return token


def notebook_to_text(nb: NotebookNode) -> str:
    """Serialise a notebook the way Jupyter writes it (sorted keys, indent 1)."""
    return "".join(notebook_chunks(nb))
