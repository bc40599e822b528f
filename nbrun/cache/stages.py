"""The cache's pipeline stages: look up once prepared, replay a hit, store a new run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..execution.kernel_reads import REPORT_NAME as KERNEL_READS
from ..pipeline.core import Prepared
from ..result import ExecutionResult
from .runs import CacheLookup, look_up, replay, storable
from .use import REPORT_NAME as CACHE_REPORT
from .use import CacheUse

FINDING = "cache"  # the name of this feature's finding in ``Prepared.findings``


def lookup_of(prepared: Prepared) -> CacheLookup | None:
    """The lookup ``cache_prepare_stage`` made for this run (None: the cache is off or the source is a URL)."""
    lookup = prepared.findings.get(FINDING)
    return lookup if isinstance(lookup, CacheLookup) else None


def cache_prepare_stage(prepared: Prepared) -> Prepared:
    """Pipeline ``after_prepare`` stage: the key of the notebook as prepared, and the stored run under it."""
    run, options = prepared.run, prepared.options
    if run.file.cache is None or not isinstance(run.source, Path):
        return prepared
    lookup = look_up(prepared.notebook, run.source, options, run.file.cache)
    for warning in lookup.warnings:
        prepared.observer.warning(warning)
    if lookup.key is not None and lookup.hit is None:  # a run to store: note what it reads beyond the key
        prepared = replace(prepared, options=options.with_changes(record_reads=True))
    return prepared.with_finding(FINDING, lookup)


def cache_lookup_stage(prepared: Prepared) -> ExecutionResult | None:
    """Pipeline ``before_execute`` stage: the stored run when the cache holds this notebook's key."""
    lookup = lookup_of(prepared)
    if lookup is None or lookup.hit is None:
        return None
    return replay(prepared.notebook, prepared.options, lookup, prepared.observer)


def cache_store_stage(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """Pipeline ``post_process`` stage (first, before images are extracted or stripped): store a new run."""
    lookup, source = lookup_of(prepared), prepared.run.source
    if lookup is None or result.cached or not isinstance(source, Path):
        return result
    warning = lookup.remember(result, source, _own_outputs(prepared))
    if warning:
        prepared.observer.warning(warning)
        return result
    if lookup.key is None or not storable(result):
        return result
    recorded = result.reports.get(KERNEL_READS) is not None
    use = CacheUse(lookup.key.digest, replayed=False, rerun=lookup.stale, recorded=recorded)
    return result.with_report(CACHE_REPORT, use)


def _own_outputs(prepared: Prepared) -> list[str]:
    """The local paths nbrun writes for this run: the notebook, its HTML page, its images folder."""
    run = prepared.run
    paths = [run.target, run.file.extract_images]
    if isinstance(run.target, Path) and run.file.write_html:
        paths.append(run.target.with_suffix(".html"))
    return [str(path.resolve()) for path in paths if isinstance(path, Path)]
