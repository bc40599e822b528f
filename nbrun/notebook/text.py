"""Text notebooks (jupytext): percent scripts, MyST and jupytext markdown, read into normal notebooks.

A text notebook is read with jupytext and validated like any ``.ipynb``.
Its executed form is always written as ``.ipynb`` (``analysis.py`` ->
``analysis.ipynb``): the text file has nowhere to keep outputs and is never
rewritten. A ``.py`` / ``.md`` file that is not a notebook (no ``# %%``
cells, no MyST ``{code-cell}``, no jupytext header) is a NotebookReadError.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, overload

from nbformat import NotebookNode

from ..errors import NotebookReadError
from .model import set_run_record

if TYPE_CHECKING:
    from ..storage.locations import Location

TEXT_SUFFIXES = (".py", ".md", ".markdown", ".myst", ".mystnb", ".mnb", ".Rmd", ".qmd", ".R", ".r", ".jl")
_NOTEBOOK_FORMATS = {"percent", "hydrogen", "myst", "rmarkdown", "spin", "sphinx", "quarto", "pandoc"}
_FORMAT_NAME = re.compile(r"^\s*(?:#\s*)?format_name\s*:\s*([A-Za-z]+)\s*$", re.MULTILINE)
_HEADER = re.compile(r"^(?:#|//|--)?\s*---\s*$.*?^\s*(?:#\s*)?jupytext\s*:", re.MULTILINE | re.DOTALL)
TEXT_SOURCE_KEY = "text_notebook"  # metadata.nbrun key: the text notebook an .ipynb was executed from


def is_text_notebook_name(where: object) -> bool:
    """True when the name's suffix is one jupytext reads (``.py``, ``.md``, ...)."""
    suffix = getattr(where, "suffix", None)
    return isinstance(suffix, str) and suffix in TEXT_SUFFIXES


@overload
def executed_target(source: Path) -> Path: ...
@overload
def executed_target(source: Location) -> Location: ...
@overload
def executed_target(source: Path | Location) -> Path | Location: ...


def executed_target(source: Path | Location) -> Path | Location:
    """Where a run writes by default: in place for ``.ipynb``, ``<stem>.ipynb`` beside a text notebook."""
    return source.with_suffix(".ipynb") if is_text_notebook_name(source) else source


def is_output_of(ipynb: Path, text: Path) -> bool:
    """True when *ipynb* is known to hold *text*'s executed form, so a run may overwrite it.

    Known means nbrun's own record (``metadata.nbrun.text_notebook`` names
    the text file) or jupytext's pairing (``metadata.jupytext.formats``
    lists the text file's extension). An unreadable or unrelated file is
    not known: it is someone's notebook, never overwritten silently.
    """
    try:
        metadata = json.loads(ipynb.read_bytes()).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return False
    if not isinstance(metadata, dict):
        return False
    record = metadata.get("nbrun")
    if isinstance(record, dict) and record.get(TEXT_SOURCE_KEY) == text.name:
        return True
    jupytext_info = metadata.get("jupytext")
    formats = jupytext_info.get("formats") if isinstance(jupytext_info, dict) else None
    return text.suffix in _paired_suffixes(formats)


def _paired_suffixes(formats: object) -> set[str]:
    """The file suffixes a jupytext ``formats`` value pairs (``"ipynb,py:percent"``, ``"nb//ipynb,md:myst"``)."""
    entries = formats.split(",") if isinstance(formats, str) else formats if isinstance(formats, list) else []
    suffixes: set[str] = set()
    for entry in entries:
        extension = entry.get("extension") if isinstance(entry, dict) else entry if isinstance(entry, str) else None
        if not isinstance(extension, str):
            continue
        extension = extension.rsplit("//", 1)[-1].split(":", 1)[0].strip()
        if extension == "auto":
            suffixes.update(TEXT_SUFFIXES)
        elif extension:
            suffixes.add(extension if extension.startswith(".") else "." + extension)
    return suffixes


def require_jupytext(what: str) -> None:
    """Raise MissingExtraError (exit 2) when jupytext is not installed (found, not imported: it is slow to import)."""
    import importlib.util

    try:
        found = importlib.util.find_spec("jupytext") is not None
    except (ImportError, ValueError, AttributeError):
        found = False
    if not found:
        from ..errors import MissingExtraError

        raise MissingExtraError(what, "text")


def text_format(text: str, suffix: str) -> str | None:
    """The jupytext format name if *text* is a notebook, else None."""
    from jupytext.formats import guess_format

    name, _ = guess_format(text, suffix)
    header = _HEADER.search(text[:4000])
    if name is None and header is not None:  # a header naming only format_name (Jupyter Book's MyST pages)
        named = _FORMAT_NAME.search(text[header.end() : header.end() + 2000])
        name = named.group(1) if named is not None else None
    if name in _NOTEBOOK_FORMATS or (header is not None and name is not None):
        return str(name)
    return None


def looks_like_text_notebook(path: Path) -> bool:
    """For folder discovery: a text file jupytext would read as a notebook (unreadable files: False)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return text_format(text, path.suffix) is not None


def parse_text_notebook(raw: bytes, name: str, suffix: str) -> NotebookNode:
    """Read a text notebook with jupytext into a validated nbformat-4 node."""
    require_jupytext(f"{name} (a text notebook)")
    import jupytext
    import nbformat

    from .format import parse_notebook

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookReadError(name, f"not UTF-8 text (bad byte at offset {exc.start})") from None
    fmt = text_format(text, suffix)
    if fmt is None:
        kind = "markdown" if suffix != ".py" else "script"
        raise NotebookReadError(
            name,
            f"not a notebook: this {kind} has no jupytext cell markers "
            "('# %%' cells, MyST '{code-cell}' blocks) and no jupytext header",
        )
    try:
        nb = jupytext.reads(text, fmt={"extension": suffix, "format_name": fmt})
    except Exception as exc:  # noqa: BLE001 - jupytext raises many types on bad input
        raise NotebookReadError(name, f"not a valid text notebook: {str(exc).strip().splitlines()[0][:200]}") from None
    _drop_text_representation(nb)
    set_run_record(nb, {TEXT_SOURCE_KEY: Path(name).name})
    return parse_notebook(nbformat.writes(nb), name)


def _drop_text_representation(nb: NotebookNode) -> None:
    """The .ipynb is not paired with the text file: drop jupytext's format record."""
    info = nb.metadata.get("jupytext")
    if isinstance(info, dict):
        info.pop("text_representation", None)
        if not info:
            del nb.metadata["jupytext"]
