"""Which interpreter a kernel command runs, and whether a template of it can fork that kernel.

A virtual environment's ``python`` is a link to its base interpreter's binary
yet sees other packages, so "the same interpreter" means the same path
(links within one folder followed) or the same binary in the same environment.
"""

from __future__ import annotations

import os
import sys


def launches_ipykernel(cmd: list[str]) -> bool:
    return len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"]


def forkable(cmd: list[str]) -> bool:
    """True for ``<this python> -m ipykernel_launcher ...`` (the local ipykernel): what the host template forks."""
    return launches_ipykernel(cmd) and same_interpreter(cmd[0], sys.executable)


def interpreter_key(path: str) -> str:
    """*path* absolute, with links followed while they stay in its folder (``python3`` -> ``python3.11``).

    Links out of the folder are kept: a virtual environment's ``python`` leads to
    its base interpreter's binary yet sees other packages.
    """
    path = os.path.abspath(path)
    for _ in range(8):
        if not os.path.islink(path):
            break
        target = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
        if os.path.dirname(target) != os.path.dirname(path):
            break
        path = target
    return path


def same_interpreter(a: str, b: str) -> bool:
    """*a* and *b* run one Python with one set of packages (not merely one binary: a venv's is its base's)."""
    if interpreter_key(a) == interpreter_key(b):
        return True
    try:
        return os.path.samefile(a, b) and _venv_of(a) == _venv_of(b)
    except OSError:
        return False


def _venv_of(python: str) -> str | None:
    """The virtual environment *python* belongs to (the folder above its own with a ``pyvenv.cfg``), or None."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    return root if os.path.isfile(os.path.join(root, "pyvenv.cfg")) else None
