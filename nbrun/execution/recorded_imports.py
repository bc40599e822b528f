"""Runs inside a Python kernel (stdlib only): which imported modules count as files a run read.

Imports read a module's source without any audit event when its bytecode is
cached, so ``reads_recorder`` asks this module, at its report, for the
source files of the loaded modules from outside the interpreter: local
modules beside the notebook or in the project, and editable installs
wherever their project folder is. ``nbrun.execution.kernel_reads`` loads it
into the kernel beside the recorder and hands :func:`module_files` to it.
"""

from __future__ import annotations

import json
import os
import sys


def module_files(skipped: tuple[str, ...]) -> list[str]:
    """Sorted real paths of the loaded modules' files outside the *skipped* folders (local modules, editable installs).

    Editable installs count wherever their project folder is (even inside a skipped one); they
    are looked for (a scan of ``sys.path``, a few ms) only when a module lies in a skipped folder
    that is neither the standard library nor a site folder.
    """
    editable: list[tuple[str, ...]] = []
    stdlib = _stdlib_folders()

    def in_editable(path: str) -> bool:
        if not editable:
            editable.append(editable_roots())
        return path.startswith(editable[0]) and not _in_site_folder(path)

    found = set()
    folders: dict[str, str] = {}  # real paths per folder: one lookup for all of a package's modules
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            continue
        if path.startswith(skipped) and (_in_site_folder(path) or path.startswith(stdlib) or not in_editable(path)):
            continue  # the standard library's or an installed package's module (most of them): no real path needed
        folder, name = os.path.split(path)
        if folder not in folders:
            folders[folder] = os.path.join(os.path.realpath(folder), "")
        path = folders[folder] + name
        if not path.startswith(skipped) or in_editable(path):
            found.add(path)
    return sorted(found)


def _stdlib_folders() -> tuple[str, ...]:
    folder = os.path.dirname(os.__file__)  # sysconfig's "stdlib" path, without importing sysconfig
    return tuple({os.path.join(folder, ""), os.path.join(os.path.realpath(folder), "")})


def _in_site_folder(path: str) -> bool:
    return "/site-packages/" in path or "/dist-packages/" in path


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
