"""Notebooks anywhere: read from and write to a path or a URL, ``.ipynb`` or a jupytext text notebook.

``read_from`` turns a Where into a validated notebook; ``write_notebook``
writes the executed notebook (local: atomic replace; remote: one whole upload).
"""

from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode

from ..errors import NotebookReadError
from ..storage.atomic import write_text_atomic
from ..storage.locations import Location, Where, write_chunks
from .format import decode_utf8, notebook_chunks, parse_notebook
from .text import is_text_notebook_name, parse_text_notebook


def read_notebook(path: Path | str) -> NotebookNode:
    """Read, upgrade (to nbformat 4) and validate the notebook at *path*.

    Raises:
        NotebookReadError: with a one-line reason for any unusable input.
    """
    path = Path(path)
    if is_text_notebook_name(path):  # a jupytext text notebook (.py, .md, ...)
        return read_from(path)
    return parse_notebook(decode_utf8(read_local_bytes(path), path), path)  # bytes freed once decoded: ~2x peak


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


def read_from(where: Where) -> NotebookNode:
    """Read the notebook at *where* (a path or URL; ``.ipynb`` JSON or a jupytext text notebook)."""
    if isinstance(where, Path) and not is_text_notebook_name(where):
        return read_notebook(where)
    raw = where.read_bytes() if isinstance(where, Location) else read_local_bytes(where)
    if is_text_notebook_name(where):
        return parse_text_notebook(raw, str(where), where.suffix)
    return parse_notebook(raw, str(where))


def write_to(nb: NotebookNode, where: Location) -> None:
    """Upload *nb* as one object (UploadError names the local copy kept when it fails)."""
    write_chunks(notebook_chunks(nb), where)


def write_notebook(nb: NotebookNode, path: Path | str | Location) -> None:
    """Write *nb* to *path* atomically: temp file, fsync, ``os.replace``.

    The JSON is streamed to the temp file (no whole-notebook copy in memory).
    The target is either left as it was or replaced whole; parent folders are
    created. Raises NotebookWriteError with a one-line reason.
    """
    if isinstance(path, Location):  # a URL: staged locally, uploaded whole
        return write_to(nb, path)
    path = Path(path)
    write_text_atomic(notebook_chunks(nb), path)
