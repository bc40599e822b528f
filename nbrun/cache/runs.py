"""The cache around one file run: look up before the kernel starts, replay a hit, store after.

A front end turns the cache on with ``FileOptions(cache=CacheSettings(DIR))``;
the cache's pipeline stages (``cache.stages``) then call :func:`look_up`,
:func:`replay` and :meth:`CacheLookup.remember`. Only runs that say something about the notebook
are stored (``ok`` and ``error`` with no timed-out cell, dead or restarted
kernel); interrupts, timeouts, kernel deaths and start failures depend on the
machine and always run again. A run to be stored records what it read
beyond its key (``ExecuteOptions.record_reads``); an entry whose reads
changed, or whose shape this nbrun would not write, is a miss.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from ..errors import CorruptEntryError, KernelLookupError
from ..events import ExecutionObserver
from ..execution.kernel_reads import REPORT_NAME
from ..notebook.model import DECLARED_RUN_KEYS, reset_notebook, resolve_kernel_name, set_run_record
from ..options import CacheSettings, ExecuteOptions
from ..pipeline.core import keep_or_clear_injected
from ..result import CellRecord, CellStatus, ExecutionResult, RunStatus
from ..secrets import Secrets
from ..secrets.sources import with_declared
from ..units import parse_duration
from . import reads
from .entry_shape import RECORD_FIELDS, STORED_STATUSES, check_entry
from .environment import kernel_identity
from .key import CacheKey, compute_key, prepared_copy
from .store import CacheStore, StoredRun
from .use import REPORT_NAME as CACHE_REPORT
from .use import CacheUse

_MACHINE_CELL_STATUSES = (CellStatus.TIMEOUT, CellStatus.KERNEL_DIED, CellStatus.INTERRUPTED)
_RESULT_FIELDS = tuple(RECORD_FIELDS)
_RUN_METADATA = ("language_info", "widgets")
_CELL_RUN_METADATA = ("execution", "nbrun")


@dataclass
class CacheLookup:
    """The outcome of a lookup: the key (None if it could not be computed) and a hit, if any."""

    store: CacheStore
    key: CacheKey | None
    hit: StoredRun | None = None
    warnings: list[str] = field(default_factory=list)
    stale: str | None = None  # why the entry stored under the key was not replayed (its reads changed)

    @property
    def keyed_secrets(self) -> tuple[str, ...]:
        """The secrets whose digests the key holds."""
        return tuple(self.key.parts.get("secrets", {})) if self.key is not None else ()

    def remember(self, result: ExecutionResult, source: Path, own_outputs: Collection[str] = ()) -> str | None:
        """Store *result* (before images are extracted) if it is storable; returns a warning or None.

        *own_outputs* are the paths nbrun writes for this run (left out of the folders it listed).
        """
        if self.key is None or not storable(result):
            return None
        run_reads = result.reports.get(REPORT_NAME)
        if REPORT_NAME in result.reports and run_reads is None:
            return "the kernel could not say which files and environment variables it read; not stored"
        if run_reads is not None and run_reads.overflow:
            return "the run used more files and folders than nbrun records; not stored"
        summary = {
            "status": result.status.value,
            "source": str(source.resolve()),
            "kernel": result.kernel_name,
            "duration": round(result.duration, 3),
            "parts": self.key.part_digests,
            **({"peak_memory": result.peak_memory} if result.peak_memory is not None else {}),
        }
        try:
            snapshot = reads.snapshot(run_reads, self.store.make_digest_key(), own_outputs, self.keyed_secrets)
            self.store.save(self.key.digest, result.notebook, result_record(result), self.key.parts, summary, snapshot)
        except (OSError, TypeError, ValueError) as exc:
            return f"the run could not be stored in the cache {self.store.root}: {exc}"
        return None


def notebook_key(nb: NotebookNode, source: Path, options: ExecuteOptions, settings: CacheSettings) -> CacheKey:
    """The key of notebook *nb* read from *source* run with *options* (ParameterError, KernelLookupError)."""
    return _prepared_key(nb, source, options, settings)[1]


def look_up(nb: NotebookNode, source: Path, options: ExecuteOptions, settings: CacheSettings) -> CacheLookup:
    """Compute the key of *nb*, already prepared (parameters injected), and find a stored run for it."""
    store = CacheStore(settings.directory)
    try:
        prepared, key = _prepared_key(nb, source, options, settings, inject=False)
    except KernelLookupError:
        return CacheLookup(store, None)  # the run reports the missing kernel
    lookup = CacheLookup(store, key, warnings=list(key.warnings))
    try:
        stored = store.load(key.digest, touch=False)
        if stored is not None:
            check_entry(stored.record, stored.notebook, stored.reads)
    except (CorruptEntryError, ValueError) as exc:
        problem = exc if isinstance(exc, CorruptEntryError) else f"cache entry {store.path_for(key.digest)}: {exc}"
        lookup.warnings.append(f"{problem}; running the notebook")
        return lookup
    if stored is None or (settings.rerun_failed and stored.record.get("status") != RunStatus.OK.value):
        return lookup
    if _code_cell_count(stored.notebook) != _code_cell_count(prepared):
        lookup.warnings.append(f"cache entry {store.path_for(key.digest)} does not fit the notebook; running it")
        return lookup
    ttl, ttl_warning = notebook_ttl(nb, settings)
    if ttl_warning:
        lookup.warnings.append(ttl_warning)
    lookup.stale = stale_reason(store, stored, source.parent, ttl)
    if lookup.stale is None:
        store.touch(key.digest)
        lookup.hit = stored
    return lookup


def stale_reason(store: CacheStore, stored: StoredRun, base: Path, ttl: float | None) -> str | None:
    """Why *stored* must not be replayed although its key matches (what the run read changed), or None."""
    return reads.stale_reason(stored.reads, store.digest_key(), base=base, ttl=ttl)


def notebook_ttl(nb: NotebookNode, settings: CacheSettings) -> tuple[float | None, str | None]:
    """The time to live of runs nbrun cannot re-check: ``metadata.nbrun.cache.ttl``, else ``--cache-ttl``.

    Returns (seconds or None, a warning about an unreadable metadata value or None).
    """
    record = nb.metadata.get("nbrun")
    cache = record.get("cache") if isinstance(record, dict) else None
    value = cache.get("ttl") if isinstance(cache, dict) else None
    if value is None:
        return settings.ttl, None
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return (float(value) if isinstance(value, (int, float)) else parse_duration(str(value))), None
    except ValueError:
        return settings.ttl, f"metadata.nbrun.cache.ttl {value!r} is not a duration such as 90, 90s, 5m or 1h; ignored"


def _prepared_key(
    nb: NotebookNode, source: Path, options: ExecuteOptions, settings: CacheSettings, *, inject: bool = True
) -> tuple[NotebookNode, CacheKey]:

    kernel = kernel_identity(resolve_kernel_name(nb, options))
    prepared = prepared_copy(nb, options, language=kernel.language, inject=inject)
    if inject:  # as the prepare stage does: the declared secrets, an earlier run's injected values
        options = options.with_changes(secrets=with_declared(options.secrets, nb.metadata, os.environ))
        if not options.parameters:
            options = keep_or_clear_injected(prepared, options, ExecutionObserver())
    digests = _secret_digests(CacheStore(settings.directory), options.secrets, make_key=not inject)
    return prepared, compute_key(
        prepared, options, kernel, source.resolve().parent, settings.extra_inputs, secret_digests=digests
    )


def _secret_digests(store: CacheStore, secrets: Secrets, *, make_key: bool) -> dict[str, str] | None:
    """The key's part for the run's secrets: keyed digests (None: no keyed secret).

    A lookup (*make_key*) makes the store's digest key; ``nbrun cache key`` only reads it, and a
    store without one can hold no entry with secrets, which the part then says.
    """
    if not any(secret.keyed for secret in secrets):
        return None
    digest_key = store.make_digest_key() if make_key else store.digest_key()
    if digest_key is None:
        return {secret.name: "(this cache has no digest key yet)" for secret in secrets if secret.keyed}
    return secrets.keyed_digests(digest_key)


def replay(
    nb: NotebookNode, options: ExecuteOptions, lookup: CacheLookup, observer: ExecutionObserver
) -> ExecutionResult:
    """*nb* (as read) with the stored run's outputs, counts and run metadata, and its result.

    Markdown, ids and other metadata stay those of *nb*: only what the run
    produced comes from the cache. Cell indices are mapped to *nb*'s.
    """

    assert lookup.hit is not None and lookup.key is not None
    reset_notebook(nb, options)  # parameters were injected by the pipeline's prepare stage
    stored = lookup.hit.notebook
    index_map = _merge_code_cells(stored, nb)
    for name in _RUN_METADATA:
        if name in stored.metadata:
            nb.metadata[name] = stored.metadata[name]
    record = stored.metadata.get("nbrun", {})  # the stored run's record; the declared keys stay this notebook's
    set_run_record(nb, {key: value for key, value in record.items() if key not in DECLARED_RUN_KEYS})
    _remap_run_metadata(nb.metadata.get("nbrun"), index_map)
    stored_reads = lookup.hit.reads or {}
    use = CacheUse(lookup.key.digest, replayed=True, recorded=bool(stored_reads.get("recorded", True)))
    result = result_from_record(lookup.hit.record, nb, index_map).with_report(CACHE_REPORT, use)
    observer.notebook_finished(result)
    return result


def storable(result: ExecutionResult) -> bool:
    """True for runs whose outcome belongs to the notebook rather than to the machine."""
    if result.status not in STORED_STATUSES or result.restarts:
        return False
    return not any(cell.status in _MACHINE_CELL_STATUSES for cell in result.cells)


def result_record(result: ExecutionResult) -> dict[str, Any]:
    """What is stored to rebuild the ExecutionResult of a run."""
    record: dict[str, Any] = {name: getattr(result, name) for name in _RESULT_FIELDS}
    record["status"] = result.status.value
    record["cells"] = [cell.to_json() for cell in result.cells]
    return record


def result_from_record(record: dict[str, Any], nb: NotebookNode, index_map: dict[int, int]) -> ExecutionResult:
    """The ExecutionResult of a stored run, with cell indices mapped through *index_map*."""
    cells = []
    for cell in record["cells"]:
        data = dict(cell)
        data["index"] = index_map.get(data["index"], data["index"])
        cells.append(CellRecord.from_json(data))
    values: dict[str, Any] = {name: record.get(name) for name in _RESULT_FIELDS}
    if values["failed_cell"] is not None:
        values["failed_cell"] = index_map.get(values["failed_cell"], values["failed_cell"])
    values["kernel_output"] = values["kernel_output"] or ""
    values["restarts"] = values["restarts"] or 0
    return ExecutionResult(notebook=nb, status=RunStatus.parse(record["status"]), cells=tuple(cells), **values)


def _merge_code_cells(stored: NotebookNode, nb: NotebookNode) -> dict[int, int]:
    """Copy outputs, counts and run metadata code cell by code cell; return stored -> current indices."""
    stored_code = [index for index, cell in enumerate(stored.cells) if cell.get("cell_type") == "code"]
    current_code = [index for index, cell in enumerate(nb.cells) if cell.get("cell_type") == "code"]
    for old, new in zip(stored_code, current_code):
        source, target = stored.cells[old], nb.cells[new]
        target["outputs"] = source.get("outputs", [])
        target["execution_count"] = source.get("execution_count")
        for name in _CELL_RUN_METADATA:
            if name in source.get("metadata", {}):
                target.metadata[name] = source.metadata[name]
    return dict(zip(stored_code, current_code))


def _remap_run_metadata(record: Any, index_map: dict[int, int]) -> None:
    if not isinstance(record, dict):
        return
    if isinstance(record.get("failed_cell"), int):
        record["failed_cell"] = index_map.get(record["failed_cell"], record["failed_cell"])
    if isinstance(record.get("cells_with_errors"), list):
        record["cells_with_errors"] = [
            index_map.get(index, index) if isinstance(index, int) else index for index in record["cells_with_errors"]
        ]


def _code_cell_count(nb: NotebookNode) -> int:
    return sum(1 for cell in nb.cells if cell.get("cell_type") == "code")
