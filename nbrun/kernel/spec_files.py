"""Kernelspecs read from their ``kernel.json`` files, as jupyter_client finds them, without importing it.

jupyter_client's package imports zmq, and its spec manager imports IPython
to find ``~/.ipython/kernels``: 0.3 s that a run replayed from the cache,
which starts no kernel, should not pay. This module reads the same folders
in the same order (``jupyter_path("kernels")``, then IPython's kernels
folder), lower-cases names as jupyter_client does, and gives the native
kernel (this interpreter's ipykernel) for ``python3`` when no folder has
one. ``tests/kernel/test_spec_files.py`` holds it to jupyter_client's answers
for every installed kernel. Starting a kernel still goes through
jupyter_client (``kernel.session``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

NATIVE_KERNEL_NAME = "python3"


@dataclass(frozen=True)
class SpecFile:
    """What a kernelspec says: how the kernel is started, its language and extra environment."""

    name: str
    argv: tuple[str, ...]
    language: str
    env: dict[str, str] = field(default_factory=dict)
    resource_dir: str = ""


def kernel_dirs() -> list[Path]:
    """The folders jupyter_client searches, first one winning on a shared name."""
    from jupyter_core.paths import jupyter_path

    folders = [Path(path) for path in jupyter_path("kernels")]
    if importlib.util.find_spec("IPython") is not None:  # jupyter_client adds IPython's own folder
        ipython_dir = os.environ.get("IPYTHONDIR") or os.environ.get("IPYTHON_DIR") or "~/.ipython"
        folders.append(Path(os.path.normpath(os.path.expanduser(ipython_dir))) / "kernels")
    return folders


def find_spec_dirs() -> dict[str, Path | None]:
    """Every kernel name with its folder (None: the native kernel, which has no folder here)."""
    found: dict[str, Path | None] = {}
    for folder in kernel_dirs():
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            if (folder / entry / "kernel.json").is_file():
                found.setdefault(entry.lower(), folder / entry)
    if NATIVE_KERNEL_NAME not in found and importlib.util.find_spec("ipykernel") is not None:
        found[NATIVE_KERNEL_NAME] = None
    return found


def find_spec(kernel_name: str) -> SpecFile | None:
    """The kernelspec *kernel_name* names (``python``: the native one), or None when none is installed."""
    name = NATIVE_KERNEL_NAME if kernel_name == "python" else kernel_name.lower()
    folders = find_spec_dirs()
    if name not in folders:
        return None
    folder = folders[name]
    if folder is None:
        return SpecFile(name, (sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"), "python")
    try:
        data = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    env = data.get("env") or {}
    return SpecFile(
        name,
        tuple(str(part) for part in data.get("argv") or ()),
        str(data.get("language") or "").lower(),
        {str(key): str(value) for key, value in env.items()},
        str(folder),
    )
