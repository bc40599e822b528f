"""Reading notebooks safely and writing them atomically."""

from __future__ import annotations

import json
import logging
import os
from json.encoder import encode_basestring
import re
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterable, Iterator

import nbformat
from nbformat import NotebookNode

from .errors import NotebookReadError, NotebookWriteError
from .leftovers import TMP_SUFFIX, sweep_temp_files, tmp_prefix
from .locations import Location
from .text_notebooks import is_text_notebook_name

_SUPPORTED_MAJORS = (3, 4)


def read_notebook(path: Path | str) -> NotebookNode:
    """Read, upgrade (to nbformat 4) and validate the notebook at *path*.

    Raises:
        NotebookReadError: with a one-line reason for any unusable input.
    """
    path = Path(path)
    if is_text_notebook_name(path):  # a jupytext text notebook (.py, .md, ...)
        from .notebook_store import read_from

        return read_from(path)
    return parse_notebook(_utf8_text(read_local_bytes(path), path), path)  # bytes freed once decoded: ~2x peak


def read_local_bytes(path: Path) -> bytes:
    """The file's bytes, or NotebookReadError with a one-line reason."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotebookReadError(path, "no such file") from None
    except IsADirectoryError:
        raise NotebookReadError(path, "is a directory, not a notebook file") from None
    except OSError as exc:
        raise NotebookReadError(path, f"cannot read: {exc.strerror or exc}") from None


def parse_notebook(raw: bytes | str, path: Path | str | None = None) -> NotebookNode:
    """Parse notebook bytes or text into a validated nbformat-4 node."""
    text = _utf8_text(raw, path) if isinstance(raw, bytes) else raw
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookReadError(
            path, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise NotebookReadError(path, "not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise NotebookReadError(path, f"not valid JSON ({_value_problem(exc)})") from None
    if _LONE_SURROGATE_HINT.search(text) and _has_lone_surrogate(data):
        raise NotebookReadError(path, "not a valid notebook: a string holds an unpaired UTF-16 surrogate escape (\\udXXX)")
    return _to_notebook(data, path)


_LONE_SURROGATE_HINT = re.compile(r"\\u[dD][89a-fA-F]")


def _value_problem(exc: ValueError) -> str:
    if "integer string conversion" in str(exc):
        return f"an integer has more than {sys.get_int_max_str_digits()} digits"
    return _first_line(str(exc)) or type(exc).__name__


def _utf8_text(raw: bytes, path: Path | str | None) -> str:
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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            minor = data.get("nbformat_minor", 0)
            nb = nbformat.versions[major].to_notebook_json(data, minor=minor)
            nb = nbformat.convert(nb, 4)
            nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookReadError(path, f"not a valid notebook: {_first_line(exc.message)}") from None
    except Exception as exc:  # nbformat raises many types on malformed input
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
    return json.JSONEncoder(indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": "),
                            default=_encode_bytes)


def _encode_bytes(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _split_bundle(bundle: dict[str, Any], big: dict[str, str] | None = None) -> dict[str, Any]:
    return {mime: _lines(value, big) if isinstance(value, str) and (mime.startswith("text/") or mime in _SPLIT_MIMES)
            else value for mime, value in bundle.items()}


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
            yield encode_basestring(text[start:start + _SLICE])[1:-1]
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


def write_notebook(nb: NotebookNode, path: Path | str | Location) -> None:
    """Write *nb* to *path* atomically: temp file, fsync, ``os.replace``.

    The JSON is streamed to the temp file (no whole-notebook copy in memory).
    The target is either left as it was or replaced whole; parent folders are
    created. Raises NotebookWriteError with a one-line reason.
    """
    if isinstance(path, Location):  # a URL: staged locally, uploaded whole
        from .notebook_store import write_to

        return write_to(nb, path)
    path = Path(path)
    write_text_atomic(notebook_chunks(nb), path)


def write_text_atomic(text: str | bytes | Iterable[str], path: Path,
                      error: type[NotebookWriteError] = NotebookWriteError) -> None:
    """Replace *path* with *text* atomically (temp file, fsync, ``os.replace``), keeping its permissions.

    *text* is bytes, a string or string pieces (UTF-8). The one atomic writer
    for notebooks, reports and image files; failures raise *error*. A symbolic
    link is written through: its final target is replaced (temp file in the
    target's folder), the link stays a link. Owner, group and mode of the
    replaced file are kept where the process may set them.
    """
    path = through_links(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(path, f"cannot create folder {folder}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise error(path, "output path is a directory")
    try:
        sweep_temp_files(folder, path.name)  # a killed nbrun's half-written copies
        fd, tmp_name = tempfile.mkstemp(prefix=tmp_prefix(path.name), suffix=TMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise error(path, f"cannot write in {folder}: {exc.strerror or exc}") from None
    try:
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as binary:
                binary.write(text)
                binary.flush()
                os.fsync(binary.fileno())
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                for piece in [text] if isinstance(text, str) else text:
                    handle.write(piece)
                handle.flush()
                os.fsync(handle.fileno())
        _copy_mode(path, tmp_name)
        _warn_hard_links(path)
        os.replace(tmp_name, path)
    except OSError as exc:
        _remove_quietly(tmp_name)
        raise error(path, f"cannot write: {exc.strerror or exc}") from None
    except (TypeError, ValueError) as exc:
        _remove_quietly(tmp_name)
        raise NotebookWriteError(path, f"cannot serialise notebook: {exc}") from None
    except BaseException:
        _remove_quietly(tmp_name)
        raise


def check_writable(path: Path) -> None:
    """Raise NotebookWriteError now if *path* could not be written later (nothing is created).

    The folder (or, when it does not exist yet, the nearest existing folder
    above it) must be a writable folder, and *path* must not be a directory.
    """
    path = through_links(Path(path))
    if path.is_dir():
        raise NotebookWriteError(path, "output path is a directory")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NotebookWriteError(path, f"cannot create folder: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NotebookWriteError(path, f"cannot write in {folder}: permission denied")


def through_links(path: Path) -> Path:
    """The file a write to *path* must replace: the final target of a symlink chain."""
    if not path.is_symlink():
        return path
    return Path(os.path.realpath(path))


def _copy_mode(existing: Path, tmp_name: str) -> None:
    try:
        info = existing.stat()
    except OSError:
        os.chmod(tmp_name, 0o666 & ~_umask())
        return
    if hasattr(os, "chown") and (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(tmp_name, info.st_uid, info.st_gid)
        except OSError:
            pass  # not permitted (another owner): the new file stays ours
    os.chmod(tmp_name, info.st_mode & 0o7777)


_WARNED_HARD_LINKS: set[str] = set()


def _warn_hard_links(path: Path) -> None:
    """Say (once per path) that replacing a hard-linked file detaches it from its other names."""
    try:
        links = path.stat().st_nlink
    except OSError:
        return
    if links > 1 and str(path) not in _WARNED_HARD_LINKS:
        _WARNED_HARD_LINKS.add(str(path))
        logging.getLogger("nbrun").warning(
            "%s has %d other hard link(s); it is replaced by a new file, so those names keep the old content",
            path, links - 1)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass
