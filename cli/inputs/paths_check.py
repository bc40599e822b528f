"""Checking every notebook path before any kernel starts (nothing runs, nothing is written)."""

from __future__ import annotations

import shlex
from pathlib import Path

from nbrun.storage.locations import Where

from .. import exit_codes
from ..errors import CliError

STDIO = "-"


def check_inputs(arguments: tuple[Where, ...], paths: list[Where]) -> None:
    """Raise before anything runs when a notebook path does not exist or is not a file.

    URLs are checked when they are read (a missing object is one line, exit 5).

    Two arguments where only the second is missing is papermill's
    ``papermill in.ipynb out.ipynb`` habit: a usage error that points at ``-o``.
    """
    missing = [path for path in paths if isinstance(path, Path) and str(path) != STDIO and not path.is_file()]
    if not missing:
        return
    first = arguments[0]
    if len(arguments) == 2 and [arguments[1]] == missing and isinstance(first, Path) and first.is_file():
        source, target = (shlex.quote(str(a)) for a in arguments)
        raise CliError(
            f"{arguments[1]}: no such notebook; to write the executed notebook there, use -o: "
            f"nbrun run {source} -o {target}",
            exit_codes.USAGE,
        )
    path = missing[0]
    if path.is_dir():
        reason = "is a directory, not a notebook file"
    elif str(path).endswith(("/", "\\")) or not path.suffix:
        reason = "no such file or folder"  # it reads as a folder: do not call it a missing file
    else:
        reason = "no such file"
    raise CliError(f"{path}: {reason}", exit_codes.NOTEBOOK_INVALID_OR_IO)
