"""Checking every notebook path before any kernel starts (nothing runs, nothing is written)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import IO, Any

import click

from . import exit_codes

STDIO = "-"


class PathError(click.ClickException):
    """A path that cannot be read or written: one ``nbrun: error:`` line on stderr, exit 5."""

    exit_code = exit_codes.NOTEBOOK_INVALID_OR_IO

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"nbrun: error: {self.message}", err=True)


class PathUsageError(PathError):
    """A path given the wrong way round (papermill's habit): exit 2."""

    exit_code = exit_codes.USAGE


def check_inputs(arguments: tuple[Path, ...], paths: list[Path]) -> None:
    """Raise before anything runs when a notebook path does not exist or is not a file.

    Two arguments where only the second is missing is papermill's
    ``papermill in.ipynb out.ipynb`` habit: a usage error that points at ``-o``.
    """
    missing = [path for path in paths if str(path) != STDIO and not path.is_file()]
    if not missing:
        return
    if len(arguments) == 2 and [arguments[1]] == missing and arguments[0].is_file():
        source, target = (shlex.quote(str(a)) for a in arguments)
        raise PathUsageError(
            f"{arguments[1]}: no such notebook; to write the executed notebook there, use -o: "
            f"nbrun run {source} -o {target}"
        )
    path = missing[0]
    reason = "is a directory, not a notebook file" if path.is_dir() else "no such file"
    raise PathError(f"{path}: {reason}")
