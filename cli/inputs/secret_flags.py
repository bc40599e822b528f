"""``--secret``, ``--secrets-file`` and ``--redact-env``: the run's secrets, shared by run, check and cache key."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from nbrun.errors import SecretError
from nbrun.secrets import Secrets

from ..errors import USAGE_EXIT, CliError

F = TypeVar("F", bound=Callable[..., Any])

SECRET_FLAGS: tuple[Callable[[F], F], ...] = (
    click.option(
        "--secret",
        "secret_names",
        multiple=True,
        metavar="NAME[=ENVVAR]",
        help="Pass the environment variable NAME (or ENVVAR, as NAME) to the kernel as a secret: "
        "its value is redacted from everything written (repeatable).",
    ),
    click.option(
        "--secrets-file",
        "secrets_files",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="Secrets as NAME=value lines; refused if others can read FILE (chmod 600) (repeatable).",
    ),
    click.option(
        "--redact-env",
        "redact_env",
        multiple=True,
        metavar="PATTERN",
        help="Treat nbrun's environment variables matching this glob (e.g. '*_TOKEN') as secrets (repeatable).",
    ),
)

SECRET_FLAG_NAMES = ("secret_names", "secrets_files", "redact_env")


def secrets_of(flags: Mapping[str, Any]) -> Secrets:
    """The secrets the flags name (a refused one is one line, exit 2)."""
    from nbrun.secrets.sources import gather

    try:
        return gather(flags["secret_names"], flags["secrets_files"], flags["redact_env"], os.environ)
    except SecretError as exc:
        raise CliError(str(exc), USAGE_EXIT) from None
