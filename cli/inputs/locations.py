"""Command-line arguments that name a place: a local path or a URL (fsspec), with one-line errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from nbrun.errors import NbrunError
from nbrun.storage.locations import Location, Where, as_where


class WhereType(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2; 8.1 is supported too
    """A path, or a URL such as ``s3://bucket/key`` (needs the remote extra and the filesystem's package)."""

    name = "PATH|URL"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> Where:
        if isinstance(value, (Path, Location)):
            return value
        try:
            return as_where(str(value))
        except NbrunError as exc:
            fail(exc)


WHERE = WhereType()


def fail(error: NbrunError) -> NoReturn:
    """Print one line and exit with the error's code (2 for a missing extra or an unusable URL)."""
    click.echo(f"nbrun: error: {error}", err=True)
    sys.exit(error.status.exit_code)


def discover_or_fail(arguments: tuple[Where, ...], excludes: tuple[str, ...], *, include_text: bool) -> list[Where]:
    """cli.discover, with a listing failure of a URL glob as one line (exit 5)."""
    from .discover import discover

    try:
        return discover(arguments, excludes, include_text=include_text)
    except NbrunError as exc:
        fail(exc)


def check_json_destination(destination: str | None) -> None:
    """``--json`` takes '-', a path or a URL; a URL is checked before anything runs."""
    if destination is not None and destination != "-":
        WHERE.convert(destination, None, None)


def check_text_support(paths: list[Where]) -> None:
    """Text notebooks need jupytext: one line and exit 2 before anything runs."""
    from nbrun.notebook.text import is_text_notebook_name, require_jupytext

    text = [p for p in paths if is_text_notebook_name(p)]
    if text:
        try:
            require_jupytext(f"running {text[0]} (a text notebook)")
        except NbrunError as exc:
            fail(exc)
