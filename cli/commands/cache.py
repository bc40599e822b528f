"""The execution cache on the command line: ``nbrun run --cache`` flags and ``nbrun cache``."""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from nbrun import units

from .. import exit_codes
from ..errors import CliError
from ..inputs.execution_flags import execute_options, execution_flags, parameters_of

if TYPE_CHECKING:
    from nbrun.cache import CacheSettings, CacheStore, EntryInfo

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
ENV_VAR = "NBRUN_CACHE_DIR"


def cache_run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --cache, --no-cache, --rerun-failed and --cache-input to ``nbrun run``.

    The command receives them as one ``cache`` argument: CacheSettings or None.
    """

    @click.option(
        "--cache",
        "cache_dir",
        type=click.Path(path_type=Path, file_okay=False),
        metavar="DIR",
        envvar=ENV_VAR,
        help=f"Replay unchanged notebooks from this cache folder and store new runs in it (or ${ENV_VAR}).",
    )
    @click.option("--no-cache", is_flag=True, help="Ignore the cache for this run (no lookup, nothing stored).")
    @click.option(
        "--rerun-failed", is_flag=True, help="Run notebooks whose stored run failed again (replay only successes)."
    )
    @click.option(
        "--cache-input",
        "cache_inputs",
        multiple=True,
        metavar="PATTERN",
        help="Files (a glob PATTERN) every notebook depends on: its content is part of the cache key (repeatable).",
    )
    @functools.wraps(command)
    def with_cache(
        *args: Any,
        cache_dir: Path | None,
        no_cache: bool,
        rerun_failed: bool,
        cache_inputs: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        kwargs["cache"] = cache_settings(cache_dir, no_cache, rerun_failed, cache_inputs)
        return command(*args, **kwargs)

    return with_cache


def cache_settings(
    cache_dir: Path | None, no_cache: bool, rerun_failed: bool, cache_inputs: tuple[str, ...]
) -> CacheSettings | None:
    if no_cache:
        return None
    if cache_dir is None:
        if rerun_failed or cache_inputs:
            raise click.UsageError(f"--rerun-failed and --cache-input need --cache DIR (or ${ENV_VAR})")
        return None
    from nbrun.cache import CacheSettings

    return CacheSettings(cache_dir.resolve(), rerun_failed=rerun_failed, extra_inputs=cache_inputs)


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


@cache_group.command("key", context_settings=CONTEXT)
@click.argument("notebook", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    envvar=ENV_VAR,
    help="Also say whether the cache holds this key, and which parts differ from this notebook's last stored run.",
)
@click.option("--cache-input", "cache_inputs", multiple=True, metavar="PATTERN", help="As for nbrun run.")
@execution_flags
@click.option("--json", "as_json", is_flag=True, help="Print the key and all its parts as JSON.")
def key_command(
    notebook: Path,
    cache_dir: Path | None,
    cache_inputs: tuple[str, ...],
    as_json: bool,
    **execution: Any,
) -> None:
    """Print NOTEBOOK's cache key and its parts (pass the run's options to get the run's key)."""
    from nbrun.cache import CacheSettings, CacheStore, notebook_key
    from nbrun.errors import NbrunError
    from nbrun.notebook.files import read_notebook

    try:
        options = execute_options(execution, parameters=parameters_of(execution), cwd=notebook.resolve().parent)
        settings = CacheSettings(cache_dir or Path("."), extra_inputs=cache_inputs)
        key = notebook_key(read_notebook(notebook), notebook, options, settings)
    except (NbrunError, ValueError) as exc:
        code = exc.status.exit_code if isinstance(exc, NbrunError) else exit_codes.USAGE
        raise CliError(str(exc), code) from None
    for warning in key.warnings:
        click.echo(f"nbrun: warning: {warning}", err=True)
    store = CacheStore(cache_dir) if cache_dir is not None else None
    if as_json:
        click.echo(
            json.dumps(
                {"key": key.digest, "part_digests": key.part_digests, "parts": key.parts},
                indent=2,
                ensure_ascii=False,
                default=str,
            )
        )
        return
    click.echo(f"key {key.digest}")
    for name, digest in key.part_digests.items():
        click.echo(f"  {name:<11} {digest[:12]}  {_describe_part(name, key.parts[name])}")
    if store is not None:
        _explain_against_store(store, key.digest, key.part_digests, notebook)


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
            f"{entry.key[:12]}  {entry.status:<8}  {_format_size(entry.size):>8}  "
            f"{_format_time(entry.last_used):<20}  {entry.source}"
        )
    total = sum(entry.size for entry in entries)
    click.echo(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {_format_size(total)} in {cache_dir}")


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
        f"stored   {stored.header.get('stored')}, last used {_format_time(entry.last_used)}, {_format_size(entry.size)}"
    )
    duration = record.get("duration")
    ran = f"{duration:.2f} s" if isinstance(duration, (int, float)) else "?"
    click.echo(f"ran      {ran} on kernel {record.get('kernel_name')}")
    problem = _not_replayable(store, entry.key)
    if problem:
        click.echo(f"replay   no: {problem}")
    click.echo("parts:")
    click.echo(json.dumps(stored.parts, indent=2, ensure_ascii=False, default=str))
    if stored.reads is not None:
        click.echo("reads (environment variables with keyed digests of their values, editable installs' files):")
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
        f"removed {len(removed)} entr{'y' if len(removed) == 1 else 'ies'} ({_format_size(freed)}) from {cache_dir}"
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
    try:
        yield
    except OSError as exc:
        detail = str(exc) if exc.strerror is None else f"{exc.filename or cache_dir}: {exc.strerror}"
        raise CliError(f"cache {cache_dir}: {detail}", exit_codes.NOTEBOOK_INVALID_OR_IO) from None


def _one_entry(store: CacheStore, prefix: str) -> EntryInfo:
    matches = store.find(prefix) if len(prefix) >= 4 else []
    if len(matches) != 1:
        problem = "no entry" if not matches else f"{len(matches)} entries"
        raise CliError(f"{problem} in {store.root} match key {prefix!r}", exit_codes.USAGE)
    return matches[0]


def _explain_against_store(store: CacheStore, digest: str, parts: dict[str, str], notebook: Path) -> None:
    """Say whether the key is stored; if not, which parts differ from the notebook's last stored run."""
    stored = store.info(digest)
    if stored is not None:
        header = stored.header
        click.echo(f"stored: yes ({header.get('status', '?')}, {header.get('stored', '?')}) in {stored.path}")
        problem = _not_replayable(store, digest)
        if problem:
            click.echo(f"  but {problem}; the next run runs the notebook")
        return
    source = str(notebook.resolve())
    previous = [entry for entry in store.entries() if entry.header.get("source") == source]
    if not previous:
        click.echo(f"stored: no (no run of {notebook} in {store.root})")
        return
    last = previous[-1]
    last_parts = last.header.get("parts")
    changed = [
        name for name, value in parts.items() if not isinstance(last_parts, dict) or last_parts.get(name) != value
    ]
    click.echo(
        f"stored: no; differs from the last stored run of {notebook} ({last.key[:12]}) in: {', '.join(changed) or '?'}"
    )


def _not_replayable(store: CacheStore, digest: str) -> str:
    """Why the stored run would not be replayed (its shape, or what it read, changed), or ""."""
    from nbrun.cache import CorruptEntryError
    from nbrun.cache.entry_shape import check_entry
    from nbrun.cache.runs import stale_reason

    try:
        stored = store.load(digest, touch=False)
        if stored is None:
            return ""
        check_entry(stored.record, stored.notebook, stored.reads)
    except (CorruptEntryError, ValueError) as exc:
        return f"it cannot be replayed: {exc}"
    reason = stale_reason(store, stored)
    return f"it is out of date: {reason}" if reason else ""


def _describe_part(name: str, value: Any) -> str:
    if name == "cells":
        return f"{len(value)} code cell{'s' if len(value) != 1 else ''}"
    if name == "kernel":
        return f"{value['name']} ({value['language']} {value['version']}, {value['interpreter']})".replace("  ", " ")
    if name == "packages":
        return f"{len(value)} installed distributions"
    if name == "parameters":
        return "none" if value is None else json.dumps(value, ensure_ascii=False, default=str)
    if name == "options":
        from nbformat import NotebookNode

        from nbrun.cache.key import result_options
        from nbrun.options import ExecuteOptions

        defaults = result_options(NotebookNode(), ExecuteOptions(), Path.cwd())
        shown = {k: v for k, v in value.items() if defaults.get(k) != v}
        return ", ".join(f"{k}={v}" for k, v in shown.items()) or "defaults"
    if name == "inputs":
        return "none declared" if not value else "; ".join(f"{k} {v[:8]}" for k, v in value.items())
    return ""


def _format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _format_time(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
