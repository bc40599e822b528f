"""Runs inside a Python kernel (stdlib only): what a run read that its cache key cannot see.

``nbrun.execution.kernel_reads`` sends this file's source to the kernel before the
first cell (as one silent, history-free execute that defines no user
names) and calls :func:`report` after the last one. :func:`install`
switches ``os.environ``'s class to a subclass recording the names looked
up through it (``environ[...]``, ``.get``, ``in``, ``os.getenv``), in place,
so every module's reference to it records. :func:`report` prints one JSON
line: those names, and the source files of imported modules that belong to
editable installs (``direct_url.json`` with ``dir_info.editable``).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

_names: set[str] = set()


class _Environ(type(os.environ)):  # type: ignore[misc]
    """``os._Environ`` that remembers the names read through it (and looks like it)."""

    __module__, __qualname__ = "os", "_Environ"

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            _names.add(key)
        return super().__getitem__(key)  # .get, `in`, os.getenv and setdefault all come through here


def install() -> None:
    """Start recording environment reads (once per kernel process)."""
    if not isinstance(os.environ, _Environ):
        os.environ.__class__ = _Environ


def report(marker: str) -> None:
    """Print *marker* and the reads as one JSON line."""
    reads = {"env": sorted(_names), "files": editable_module_files()}
    sys.stdout.write(marker + json.dumps(reads) + "\n")
    sys.stdout.flush()


def editable_module_files() -> list[str]:
    """Sorted real paths of the loaded modules' files under editable installs' project folders."""
    roots = editable_roots()
    if not roots:
        return []
    installed = tuple(os.path.join(os.path.realpath(p), "") for p in sys.path if _is_site_folder(p))
    found = set()
    folders: dict[str, str] = {}  # real paths per folder: one lookup for all of a package's modules
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        folder, name = os.path.split(path)
        if folder not in folders:
            folders[folder] = os.path.join(os.path.realpath(folder), "")
        path = folders[folder] + name
        if path.startswith(roots) and not path.startswith(installed):
            found.add(path)
    return sorted(found)


def editable_roots() -> tuple[str, ...]:
    """The project folders of the distributions installed in editable mode.

    What ``importlib.metadata.distributions()`` finds on ``sys.path``, read
    directly: a ``*.dist-info/direct_url.json`` with ``dir_info.editable``.
    """
    from urllib.parse import unquote, urlparse

    roots = set()
    for folder in dict.fromkeys(sys.path):
        try:
            with os.scandir(folder or ".") as entries:
                infos = [
                    os.path.join(entry.path, "direct_url.json")
                    for entry in entries
                    if entry.name.endswith(".dist-info")
                ]
        except OSError:
            continue
        for path in infos:
            try:
                with open(path, encoding="utf-8") as handle:
                    info = json.load(handle)
            except (OSError, ValueError):
                continue
            if not isinstance(info, dict) or not isinstance(info.get("dir_info"), dict):
                continue
            url = info.get("url")
            if info["dir_info"].get("editable") is True and isinstance(url, str) and url.startswith("file:"):
                roots.add(os.path.join(os.path.realpath(unquote(urlparse(url).path)), ""))
    return tuple(sorted(roots))


def _is_site_folder(path: str) -> bool:
    """A folder installed distributions live in (the key's packages part covers those)."""
    return os.path.basename(os.path.normpath(path)) in ("site-packages", "dist-packages")
