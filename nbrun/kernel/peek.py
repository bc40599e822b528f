"""Whether a batch will use the local ipykernel at all, without reading whole notebooks.

The fast-start template is worth starting only for ipykernel notebooks. A
notebook's kernel name is read from the last 64 KiB of its file (Jupyter
writes ``metadata`` after ``cells``); when it cannot be told that way, the
notebook counts as an ipykernel one (starting the template is then cheap
insurance, never an error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..storage.locations import Where

import functools
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from ..options import DEFAULT_KERNEL
from .fork.interpreters import forkable
from .spec_files import find_spec

_TAIL = 64 * 1024
_KERNELSPEC_NAME = re.compile(rb'"kernelspec"\s*:\s*\{[^{}]*?"name"\s*:\s*"([^"\\]+)"')


def peek_kernel_name(path: Path) -> str | None:
    """The ``metadata.kernelspec.name`` found near the end of *path*, or None."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(size - _TAIL, 0))
            tail = handle.read()
    except OSError:
        return None
    matches = _KERNELSPEC_NAME.findall(tail)
    return matches[-1].decode("utf-8", "replace") if matches else None


@functools.lru_cache(maxsize=32)
def kernel_is_forkable(name: str) -> bool:
    """True when kernel *name* is this interpreter's ipykernel (or is unknown here)."""
    spec = find_spec(DEFAULT_KERNEL if name == "python" else name)
    if spec is None:
        return False
    argv = list(spec.argv)
    if argv and argv[0] in {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}:
        argv[0] = sys.executable  # as jupyter_client launches it
    return forkable(argv)


def any_forkable(paths: Iterable[Where], kernel_override: str | None) -> bool:
    """Would any of these notebooks run in a kernel the fast-start template can fork?"""
    if kernel_override:
        return kernel_is_forkable(kernel_override)
    # a URL is not peeked (that would fetch it twice): assume it may use the local ipykernel
    return any(
        not isinstance(path, Path) or kernel_is_forkable(peek_kernel_name(path) or DEFAULT_KERNEL) for path in paths
    )
