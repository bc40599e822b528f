"""The execution cache's flags of ``nbrun run`` (and ``cache key``): where the cache is, and how to use it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .execution_flags import SECONDS

if TYPE_CHECKING:
    from nbrun.cache import CacheSettings

ENV_VAR = "NBRUN_CACHE_DIR"


def cache_dir_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--cache DIR`` (or ``$NBRUN_CACHE_DIR``), the folder need not exist yet; the command gets ``cache_dir``."""
    return folder_option("--cache", "cache_dir", ENV_VAR, help_text)


def folder_option(
    flag: str, name: str, envvar: str, help_text: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A folder flag (``DIR``, or *envvar*) that need not exist yet; the command gets it as *name*."""
    return click.option(
        flag, name, type=click.Path(path_type=Path, file_okay=False), metavar="DIR", envvar=envvar, help=help_text
    )


def cache_run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --cache, --no-cache, --rerun-failed, --cache-input and --cache-ttl to ``nbrun run``.

    The command receives them as one ``cache`` argument: CacheSettings or None.
    """

    @cache_dir_option(f"Replay unchanged notebooks from this cache folder and store new runs in it (or ${ENV_VAR}).")
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
    @ttl_option
    @functools.wraps(command)
    def with_cache(
        *args: Any,
        cache_dir: Path | None,
        no_cache: bool,
        rerun_failed: bool,
        cache_inputs: tuple[str, ...],
        cache_ttl: float | None,
        **kwargs: Any,
    ) -> Any:
        kwargs["cache"] = cache_settings(cache_dir, no_cache, rerun_failed, cache_inputs, cache_ttl)
        return command(*args, **kwargs)

    return with_cache


def cache_settings(
    cache_dir: Path | None,
    no_cache: bool,
    rerun_failed: bool,
    cache_inputs: tuple[str, ...],
    cache_ttl: float | None = None,
) -> CacheSettings | None:
    if no_cache:
        return None
    if cache_dir is None:
        if rerun_failed or cache_inputs or cache_ttl is not None:
            raise click.UsageError(f"--rerun-failed, --cache-input and --cache-ttl need --cache DIR (or ${ENV_VAR})")
        return None
    from nbrun.cache import CacheSettings

    return CacheSettings(cache_dir.resolve(), rerun_failed=rerun_failed, extra_inputs=cache_inputs, ttl=cache_ttl)


def ttl_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--cache-ttl DURATION``: how long a run nbrun cannot re-check (network, subprocesses) may be replayed."""
    return click.option(
        "--cache-ttl",
        type=SECONDS,
        metavar="SECONDS",
        help="Replay a stored run that reached the network or ran a subprocess (which nbrun cannot re-check) "
        "for this long after it ran (90s, 5m, 1h).  [default: never]",
    )(command)
