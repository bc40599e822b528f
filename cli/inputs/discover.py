"""Turning command-line arguments into notebook paths: files, folders, globs."""

from __future__ import annotations

import fnmatch
import glob
import os
from pathlib import Path

from nbrun.storage.locations import Location, Where

from ..errors import NothingToRun
from .text_discovery import expand_url, with_text_notebooks

_GLOB_CHARS = set("*?[")


def discover(arguments: tuple[Where, ...], excludes: tuple[str, ...], *, include_text: bool = False) -> list[Where]:
    """Expand *arguments* in order, without duplicates.

    A folder is searched recursively for ``*.ipynb``, skipping hidden folders
    and ``.ipynb_checkpoints``; a glob pattern is expanded (``**`` allowed);
    anything else is taken as a file path as given (a missing file is
    reported when it is run). ``--exclude`` patterns match the path as
    given or any of its parts' names. With *include_text*, folders and globs
    also yield jupytext text notebooks (see cli/inputs/text_discovery.py).
    """
    found: list[Where] = []
    seen: set[Where] = set()
    for argument in arguments:
        if isinstance(argument, Location):
            expanded: list[Where] = list(expand_url(argument, include_text))
        elif include_text:
            expanded = list(with_text_notebooks(argument, _expand))
        else:
            expanded = list(_expand(argument))
        for path in expanded:
            key = path.resolve()
            if key in seen or _excluded(path, excludes):
                continue
            seen.add(key)
            found.append(path)
    return found


def _expand(argument: Path) -> list[Path]:
    text = str(argument)
    if argument.is_dir():
        notebooks = sorted(_walk(argument))
        if not notebooks:
            raise NothingToRun(f"{argument}: folder contains no notebooks")
        return notebooks
    if _GLOB_CHARS & set(text) and not argument.exists():
        matches = sorted(Path(p) for p in glob.glob(text, recursive=True) if p.endswith(".ipynb"))
        matches = [p for p in matches if not _hidden(p)]
        if not matches:
            raise NothingToRun(f"{text}: no notebooks match this pattern")
        return matches
    return [argument]


def _walk(folder: Path) -> list[Path]:
    notebooks: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        notebooks.extend(Path(root) / name for name in files if name.endswith(".ipynb") and not name.startswith("."))
    return notebooks


def _hidden(path: Path) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in path.parts[:-1])


def _excluded(path: Where, patterns: tuple[str, ...]) -> bool:
    text = path.as_posix()
    return any(
        fnmatch.fnmatch(text, pattern) or any(fnmatch.fnmatch(part, pattern) for part in path.parts)
        for pattern in patterns
    )


def mirror_root(arguments: tuple[Where, ...]) -> Path | None:
    """The folder ``--output-dir`` mirrors: the common folder of the arguments as given.

    A folder argument counts itself, a file its folder, a glob pattern the
    folder before its first wildcard; so ``--exclude`` never moves the root.
    """
    if not all(isinstance(argument, Path) for argument in arguments):
        return None  # URLs: the common folder of the notebooks found
    folders = []
    for argument in arguments:
        assert isinstance(argument, Path)
        if argument.is_dir():
            folders.append(argument)
        elif _GLOB_CHARS & set(str(argument)) and not argument.exists():
            parts = argument.parts
            fixed = next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))
            folders.append(Path(*parts[:fixed]) if fixed else Path())
        else:
            folders.append(argument.parent)
    return Path(os.path.commonpath([str(folder.resolve()) for folder in folders])) if folders else Path.cwd()
