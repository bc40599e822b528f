"""``nbrun cache``: list, show, clear and prune an execution cache (``key`` is in ``cache_key``)."""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from nbrun import units

from .. import exit_codes
from ..errors import CliError
from ..inputs.cache_flags import ENV_VAR
from .cache_key import CONTEXT, key_command, not_replayable

if TYPE_CHECKING:
    from nbrun.cache import CacheStore, EntryInfo


def _existing_cache(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """The cache folder of ``list``/``show``/``prune``/``clear``: given, or ``$NBRUN_CACHE_DIR``, and there."""
    if value is None:
        raise click.UsageError(f"no cache folder: give --cache DIR or set ${ENV_VAR}")
    if not value.is_dir():
        raise CliError(f"{value}: no such cache folder", exit_codes.USAGE)
    return value


def _cache_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--cache",
        "cache_dir",
        type=click.Path(path_type=Path, file_okay=False),
        envvar=ENV_VAR,
        callback=_existing_cache,
        help=f"The cache folder.  [default: ${ENV_VAR}]",
    )(command)


@click.group("cache", context_settings=CONTEXT, short_help="Inspect and maintain an execution cache.")
def cache_group() -> None:
    """Inspect and maintain an execution cache (see nbrun run --cache)."""


cache_group.add_command(key_command)


@cache_group.command("list", context_settings=CONTEXT)
@_cache_dir_option
def list_command(cache_dir: Path) -> None:
    """List the stored runs, least recently used first."""
    from nbrun.cache import CacheStore

    with _store_errors(cache_dir):
        entries = CacheStore(cache_dir).entries()
    if entries:
        click.echo(f"{'KEY':<12}  {'STATUS':<8}  {'SIZE':>8}  {'LAST USED':<20}  NOTEBOOK")
    for entry in entries:
        click.echo(
            f"{entry.key[:12]}  {entry.status:<8}  {format_size(entry.size):>8}  "
            f"{format_time(entry.last_used):<20}  {entry.source}"
        )
    total = sum(entry.size for entry in entries)
    click.echo(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {format_size(total)} in {cache_dir}")


@cache_group.command("show", context_settings=CONTEXT)
@click.argument("key")
@_cache_dir_option
def show_command(key: str, cache_dir: Path) -> None:
    """Show one stored run (KEY may be abbreviated): its summary and key parts."""
    from nbrun.cache import CacheStore, CorruptEntryError

    store = CacheStore(cache_dir)
    with _store_errors(cache_dir):
        entry = _one_entry(store, key)
    try:
        stored = store.load(entry.key, touch=False)
    except CorruptEntryError as exc:
        raise CliError(str(exc), exc.status.exit_code) from None
    assert stored is not None
    record = stored.record
    click.echo(f"key      {entry.key}")
    click.echo(f"notebook {entry.source}")
    click.echo(f"status   {record.get('status')}" + (f" ({record['message']})" if record.get("message") else ""))
    click.echo(
        f"stored   {stored.header.get('stored')}, last used {format_time(entry.last_used)}, {format_size(entry.size)}"
    )
    duration = record.get("duration")
    ran = f"{duration:.2f} s" if isinstance(duration, (int, float)) else "?"
    click.echo(f"ran      {ran} on kernel {record.get('kernel_name')}")
    problem = not_replayable(store, entry.key, Path(entry.source).parent, None)
    if problem:
        click.echo(f"replay   no: {problem}")
    click.echo("parts:")
    click.echo(json.dumps(stored.parts, indent=2, ensure_ascii=False, default=str))
    if stored.reads is not None:
        click.echo(
            "reads (files read and written with their hashes, folders, globs, environment variables as keyed digests):"
        )
        click.echo(json.dumps(stored.reads, indent=2, ensure_ascii=False, default=str))


@cache_group.command("clear", context_settings=CONTEXT)
@_cache_dir_option
def clear_command(cache_dir: Path) -> None:
    """Remove every stored run."""
    from nbrun.cache import CacheStore

    with _store_errors(cache_dir):
        removed = CacheStore(cache_dir).clear()
    click.echo(f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {cache_dir}")


@cache_group.command("prune", context_settings=CONTEXT)
@_cache_dir_option
@click.option(
    "--max-size", metavar="SIZE", help="Keep at most SIZE bytes (e.g. 500M, 2G), dropping the least recently used."
)
@click.option("--older-than", type=click.FloatRange(min=0), metavar="DAYS", help="Drop runs not used for DAYS days.")
def prune_command(cache_dir: Path, max_size: str | None, older_than: float | None) -> None:
    """Drop old or least recently used runs (and corrupt entries)."""
    from nbrun.cache import CacheStore

    if max_size is None and older_than is None:
        raise click.UsageError("give --max-size SIZE and/or --older-than DAYS")
    limit = None if max_size is None else parse_size(max_size)
    with _store_errors(cache_dir):
        removed = CacheStore(cache_dir).prune(
            max_size=limit, older_than=None if older_than is None else older_than * 86400
        )
    freed = sum(entry.size for entry in removed)
    click.echo(
        f"removed {len(removed)} entr{'y' if len(removed) == 1 else 'ies'} ({format_size(freed)}) from {cache_dir}"
    )


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``1.5GB``, ``1048576`` -> bytes (nbrun.units: powers of 1024, as every size flag)."""
    try:
        return units.parse_size(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-size") from None


@contextlib.contextmanager
def _store_errors(cache_dir: Path) -> Iterator[None]:
    """An OSError of the store (read-only, unremovable entry...) as one error line, exit code 5 as for other I/O."""
    with folder_errors("cache", cache_dir):
        yield


@contextlib.contextmanager
def folder_errors(what: str, folder: Path) -> Iterator[None]:
    """An OSError in *folder* (read-only, unremovable, unreadable) as one line ``WHAT FOLDER: why``, exit code 5."""
    try:
        yield
    except OSError as exc:
        detail = str(exc) if exc.strerror is None else f"{exc.filename or folder}: {exc.strerror}"
        raise CliError(f"{what} {folder}: {detail}", exit_codes.NOTEBOOK_INVALID_OR_IO) from None


def _one_entry(store: CacheStore, prefix: str) -> EntryInfo:
    matches = store.find(prefix) if len(prefix) >= 4 else []
    if len(matches) != 1:
        problem = "no entry" if not matches else f"{len(matches)} entries"
        raise CliError(f"{problem} in {store.root} match key {prefix!r}", exit_codes.USAGE)
    return matches[0]


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def format_time(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
