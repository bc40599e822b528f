"""``nbrun env``: list and prune the notebooks' own environments (see ``nbrun run --env``)."""

from __future__ import annotations

from pathlib import Path

import click

from ..inputs.env_flags import env_dir_option
from .cache import folder_errors, format_size, format_time
from .cache_key import CONTEXT


def _folder(env_dir: Path | None) -> Path:
    from nbrun.environments.layout import environments_root
    from nbrun.options import EnvironmentSettings

    return environments_root(EnvironmentSettings(env_dir))


@click.group("env", context_settings=CONTEXT, short_help="List and prune notebooks' own environments.")
def env_group() -> None:
    """List and prune the environments built for notebooks that declare their dependencies (nbrun run --env)."""


@env_group.command("list", context_settings=CONTEXT, short_help="List the environments, least recently used first.")
@env_dir_option
def list_command(env_dir: Path | None) -> None:
    """List the environments, least recently used first: digest, size, last use, declarations."""
    from nbrun.environments.store import list_environments

    folder = _folder(env_dir)
    with folder_errors("environments", folder):
        found = list_environments(folder)
    if found:
        click.echo(f"{'DIGEST':<16}  {'SIZE':>9}  {'LAST USED':<20}  DECLARES")
    for info in found:
        click.echo(
            f"{info.digest:<16}  {format_size(info.size):>9}  {format_time(info.last_used):<20}  {info.describe()}"
        )
    total = sum(info.size for info in found)
    plural = "" if len(found) == 1 else "s"
    click.echo(f"{len(found)} environment{plural}, {format_size(total)} in {folder}")


@env_group.command("prune", context_settings=CONTEXT, short_help="Remove environments unused for DAYS days, or all.")
@env_dir_option
@click.option(
    "--older-than", type=click.FloatRange(min=0), metavar="DAYS", help="Remove environments not used for DAYS days."
)
@click.option("--all", "remove_all", is_flag=True, help="Remove every environment.")
def prune_command(env_dir: Path | None, older_than: float | None, remove_all: bool) -> None:
    """Remove environments no run used for a while (--older-than DAYS), or all of them (--all)."""
    from nbrun.environments.store import prune_environments

    if (older_than is None) == (not remove_all):
        raise click.UsageError("give --older-than DAYS or --all")
    folder = _folder(env_dir)
    with folder_errors("environments", folder):
        removed = prune_environments(folder, None if remove_all else (older_than or 0) * 86400)
    freed = sum(info.size for info in removed)
    plural = "" if len(removed) == 1 else "s"
    click.echo(f"removed {len(removed)} environment{plural} ({format_size(freed)}) from {folder}")
