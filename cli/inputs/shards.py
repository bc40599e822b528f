"""``--shard I/N``, ``--durations FILE`` and ``-j auto``: which notebooks this job runs, and how many at once."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from ..errors import USAGE_EXIT, CliError
from .run_flags import AUTO_JOBS, BatchFlags

if TYPE_CHECKING:
    from nbrun.cache import CacheSettings


def shard_and_fit(paths: list[Any], batch: BatchFlags, cache: CacheSettings | None, jobs: int) -> tuple[list[Any], int]:
    """This shard's notebooks (in their order) and the jobs for them; says on stderr what it chose and why."""
    from nbrun.errors import UsageError
    from nbrun.kernel.resources import available_memory
    from nbrun.runners.history import PastRun, fit_jobs, history_from_cache, history_from_record, shard

    history: dict[str, PastRun] = {}
    try:
        if cache is not None:
            history.update(history_from_cache(cache.directory))
        if batch.durations is not None:  # the record given wins over the cache
            history.update(history_from_record(batch.durations))
    except UsageError as exc:
        raise CliError(str(exc), USAGE_EXIT) from None
    if batch.shard is not None:
        index, count = batch.shard
        found = len(paths)
        paths = shard(paths, index, count, history)
        balanced = "by earlier durations" if any(past.duration is not None for past in history.values()) else "by path"
        click.echo(f"nbrun: shard {index}/{count}: {len(paths)} of {found} notebooks (balanced {balanced})", err=True)
    if jobs == AUTO_JOBS:
        cpus = os.cpu_count() or 1
        jobs, why = fit_jobs(cpus, paths, history, available_memory())
        if why:
            click.echo(f"nbrun: {why}", err=True)
    return paths, max(jobs, 1)
