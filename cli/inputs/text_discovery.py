"""Discovery beyond local .ipynb files: text notebooks (--include-text) and URL globs."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import click

from nbrun.notebook.text import TEXT_SUFFIXES, is_output_of, looks_like_text_notebook
from nbrun.storage.locations import Location

from ..errors import NothingToRun

_GLOB_CHARS = set("*?[")


def with_text_notebooks(argument: Path, expand: Callable[[Path], list[Path]]) -> list[Path]:
    """*expand*'s notebooks plus the text notebooks a folder or glob holds.

    A text file counts only if jupytext reads it as a notebook (``# %%``
    cells, MyST code cells or a jupytext header). When ``x.py`` sits
    beside ``x.ipynb``, the ``.ipynb`` is dropped if it is known to be the
    script's executed output (nbrun's record or jupytext's pairing);
    otherwise it is someone's notebook: it runs, and ``x.py`` is skipped
    with a line on stderr (running it would overwrite ``x.ipynb``).
    Explicit file arguments are left as given.
    """
    is_pattern = bool(_GLOB_CHARS & set(str(argument))) and not argument.exists()
    if not argument.is_dir() and not is_pattern:
        return expand(argument)
    try:
        notebooks = expand(argument)
    except NothingToRun:
        notebooks = []
    candidates = _text_files_in(argument) if argument.is_dir() else _text_matches(str(argument))
    text = [path for path in candidates if looks_like_text_notebook(path)]
    if not notebooks and not text:
        raise NothingToRun(f"{argument}: no notebooks (.ipynb or text notebooks) found")
    found = set(notebooks)
    outputs: set[Path] = set()
    skipped: set[Path] = set()
    for path in text:
        twin = path.with_suffix(".ipynb")
        if twin not in found:
            continue
        if is_output_of(twin, path):
            outputs.add(twin)
        else:
            skipped.add(path)
            click.echo(
                f"nbrun: skipping {path}: {twin.name} beside it is not its output (no nbrun record, "
                f"no jupytext pairing), so {twin.name} runs and is not overwritten",
                err=True,
            )
    return sorted([path for path in notebooks if path not in outputs] + [path for path in text if path not in skipped])


def _text_files_in(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        found.extend(Path(root) / name for name in files if name.endswith(TEXT_SUFFIXES) and not name.startswith("."))
    return found


def _text_matches(pattern: str) -> list[Path]:
    return [
        Path(p)
        for p in glob.glob(pattern, recursive=True)
        if p.endswith(TEXT_SUFFIXES)
        and not any(part.startswith(".") and part not in (".", "..") for part in Path(p).parts[:-1])
    ]


def expand_url(argument: Location, include_text: bool = False) -> list[Location]:
    """A URL with glob characters lists the matching ``.ipynb`` objects (and text ones with *include_text*).

    In an http(s) URL only the path counts: ``?`` starts its query string.
    """
    pattern = urlsplit(argument.url).path if argument.protocol in ("http", "https") else argument.url
    if not _GLOB_CHARS & set(pattern):
        return [argument]
    suffixes = (".ipynb", *TEXT_SUFFIXES) if include_text else (".ipynb",)
    matches = [match for match in argument.glob() if match.suffix in suffixes]
    if not matches:
        raise NothingToRun(f"{argument}: no notebooks match this pattern")
    return matches
