"""The path of one notebook's file run, as named stages, in one place.

    read ─► check ─► prepare ─► before_execute* ─► execute ─► post_process* ─► write ─► after_write* ─► result

Every stage is a slot of :class:`Pipeline`; the defaults are a file run's:

* ``read`` (:func:`read`): the file into a ``NotebookNode``.
* ``check`` (:func:`check_targets`): every output is writable.
* ``prepare`` (:func:`prepare`): the kernel's cwd defaults to the notebook's
  folder; ``options.parameters`` are injected (before any kernel starts).
* ``after_prepare`` stages, ``(Prepared) -> Prepared``: a feature looks at the
  prepared notebook and keeps what it found in ``Prepared.findings`` under its
  name (the cache's key and stored run).
* ``before_execute`` stages, ``(Prepared) -> ExecutionResult | None`` (or an
  awaitable of it: work that must not block the batch's loop, such as building
  the notebook's environment): a stage that returns a ready result (a cache
  hit) short-circuits execution.
* ``execute``, ``(Prepared) -> Awaitable[ExecutionResult]``: locally
  :func:`local_execute` (kernel, cells, autosave); a Dask runner sends the
  prepared notebook to a worker instead. Both end in :func:`execute_notebook`.
* ``post_process`` stages, ``(Prepared, ExecutionResult) -> ExecutionResult``:
  run before the notebook is written (image extraction, the check of its
  image links); a stage attaches what it found with ``dataclasses.replace`` /
  ``result.with_report``. If one
  raises an NbrunError, the notebook is still written, then the error raised.
* ``write`` (:func:`write`): the executed notebook, atomically, to the target
  (:func:`kept_in_memory` for a run whose caller keeps the notebook).
* ``after_write`` stages, same signature: checks that may fail the run once
  the notebook is safe on disk (``strict_images``), uploads, exports.

This core imports no feature: ``pipeline.default.DEFAULT_PIPELINE`` registers
the cache's, images' and reports' stages. The CLI (through ``batch.run_batch``),
the Dask runner, ``run_path`` and the pytest plugin all run that pipeline; a new
stage is one entry in its tuples (or in those of a ``Pipeline`` a caller builds).
The other ways to run are pipelines of the same stages with other slots:
``--prepare-only`` (``pipeline.prepare_only``: execute clears outputs),
``nbrun check`` (``check.run``: read marks cells, write compares) and
``api.async_execute`` (read hands over the given notebook, write keeps it).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from ..control import RunControl
from ..errors import NbrunError, NoSuchKernelError, NotebookWriteError, UsageError
from ..events import ExecutionObserver
from ..execution.executor import NotebookExecution
from ..kernel.specs import kernel_language
from ..kernel.supply import KernelSupply
from ..notebook.files import read_from, write_notebook
from ..notebook.in_place import InPlaceGuard
from ..notebook.model import resolve_kernel_name
from ..notebook.parameter_cells import drop_injected_cell, kept_parameters
from ..notebook.parameters import apply_parameters, json_safe, notebook_language
from ..options import ExecuteOptions, FileOptions
from ..result import ExecutionResult
from ..secrets.sources import with_declared
from ..storage.atomic import check_writable
from ..storage.locations import READ_ONLY_PROTOCOLS, Where, is_below, kernel_cwd, where_name
from ..units import parse_size


@dataclass(frozen=True)
class FileRun:
    """What a file run is asked to do: read *source*, write *target*."""

    source: Where  # a path or a URL (nbrun.storage.locations); .ipynb or a jupytext text notebook
    target: Where
    options: ExecuteOptions = field(default_factory=ExecuteOptions)
    file: FileOptions = field(default_factory=FileOptions)

    @property
    def in_place(self) -> bool:
        """The executed notebook is written back over its source (a local file)."""
        return isinstance(self.source, Path) and self.source == self.target


@dataclass(frozen=True)
class Prepared:
    """The output of ``prepare``: the notebook ready to execute and the options it runs with."""

    run: FileRun
    notebook: NotebookNode
    options: ExecuteOptions  # run.options with cwd resolved
    observer: ExecutionObserver
    findings: Mapping[str, Any] = field(default_factory=dict)  # what after_prepare stages found, by feature name
    in_place: InPlaceGuard | None = None  # every write of a run that writes back to its source goes through it

    def with_finding(self, name: str, finding: Any) -> Prepared:
        """A copy with *finding* under *name* (e.g. the cache's lookup), for later stages of that feature."""
        return replace(self, findings={**self.findings, name: finding})


AfterPrepare = Callable[[Prepared], Prepared]
BeforeExecute = Callable[[Prepared], ExecutionResult | Awaitable[ExecutionResult | None] | None]
ExecuteStage = Callable[[Prepared], Awaitable[ExecutionResult]]
PostProcess = Callable[[Prepared, ExecutionResult], ExecutionResult]


def read(run: FileRun) -> NotebookNode:
    """Stage ``read``: parse and validate the source notebook, local or remote, JSON or text (NotebookReadError)."""
    return read_from(run.source)


def check_targets(run: FileRun) -> None:
    """Stage ``check``: every output can be written, before any kernel starts (NotebookWriteError).

    A run's side effects must not be wasted on a target that only fails at the end.
    """
    images = run.file.extract_images
    for where, root, what in ((run.target, run.file.output_root, "output"), (images, run.file.images_root, "images")):
        if where is not None and root is not None and not is_below(where, root):
            raise NotebookWriteError(
                where_name(where),
                f"is outside the {what} folder {where_name(root)} "
                f"({where_name(run.source)} climbs out of it with '..'); not run",
            )
    if isinstance(run.target, Path):  # a URL is checked by its upload (the run is kept locally if that fails)
        check_writable(run.target)
    elif run.target.protocol in READ_ONLY_PROTOCOLS:
        raise NotebookWriteError(
            where_name(run.target),
            f"{run.target.protocol}:// is read-only: nbrun reads notebooks over HTTP but cannot write them; "
            "write to a file (-o) or an object store (s3://, gs://...)",
        )


def prepare(run: FileRun, nb: NotebookNode, observer: ExecutionObserver) -> Prepared:
    """Stage ``prepare``: default the cwd to the notebook's folder, add its declared secrets, inject parameters.

    A secret the notebook declares (``metadata.nbrun.secrets``) and the run
    was not given comes from nbrun's environment; a missing one is a
    SecretError before any kernel starts.
    """
    options = run.options
    secrets = with_declared(options.secrets, nb.get("metadata", {}), os.environ)
    if secrets is not options.secrets:
        options = options.with_changes(secrets=secrets)
    declared_memory = declared_max_memory(nb)
    if declared_memory is not None:  # both given: the tighter limit holds
        options = options.with_changes(max_memory=min(declared_memory, options.max_memory or declared_memory))
    if options.cwd is None:  # absolute, so a remote worker can use it; a URL's notebook runs in a scratch folder
        options = options.with_changes(cwd=kernel_cwd(run.source))
    if options.parameters:
        for warning in inject_run_parameters(nb, options):
            observer.warning(warning)
    else:  # no new values: an earlier run's injected cell is used again as it stands (never rewritten)
        options = keep_or_clear_injected(nb, options, observer)
    return Prepared(run, nb, options, observer)


def declared_max_memory(nb: NotebookNode) -> int | None:
    """``metadata.nbrun.max_memory`` in bytes (``"2G"`` or a number); UsageError for one that is not a size."""
    record = nb.get("metadata", {}).get("nbrun")
    value = record.get("max_memory") if isinstance(record, dict) else None
    if value is None:
        return None
    try:
        size = value if isinstance(value, int) and not isinstance(value, bool) else parse_size(str(value))
    except ValueError:
        size = 0
    if size <= 0:
        raise UsageError(f"metadata.nbrun.max_memory {value!r} is not a size such as 512M or 2G")
    return size


def keep_or_clear_injected(nb: NotebookNode, options: ExecuteOptions, observer: ExecutionObserver) -> ExecuteOptions:
    """A run without parameters of a notebook that holds an earlier run's ``injected-parameters`` cell.

    Its values are used again (a ``--prepare-only`` workflow depends on it),
    said in one line and recorded as the run's parameters; with
    ``clear_parameters`` the cell is dropped and the notebook's defaults apply.
    """
    if options.clear_parameters:
        drop_injected_cell(nb)
        return options
    kept = kept_parameters(nb)
    if not kept:
        return options
    values = ", ".join(f"{name}={value!r}" for name, value in kept.items())
    observer.warning(
        f"no parameters given: the notebook's injected-parameters cell from an earlier run is used ({values}); "
        "--clear-params drops it"
    )
    return options.with_changes(parameters=kept)


def inject_run_parameters(nb: NotebookNode, options: ExecuteOptions) -> list[str]:
    """``options.parameters`` into *nb*, written for the kernel the run will start; the warnings.

    The language is that of the kernelspec of ``options.kernel_name``, else of
    the notebook's kernel, looked up before any kernel starts; only a notebook
    kernel that is not installed here (it cannot start) falls back to the
    language the notebook states. Raises NoSuchKernelError, ParameterError.
    """
    if not options.parameters:
        return []
    try:
        language = kernel_language(resolve_kernel_name(nb, options))
    except NoSuchKernelError:
        if options.kernel_name:
            raise
        language = notebook_language(nb)
    return apply_parameters(nb, options.parameters, language=language, strict=options.strict_parameters)


async def execute_notebook(
    nb: NotebookNode,
    options: ExecuteOptions,
    *,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
    supply: KernelSupply | None = None,
    autosave: tuple[Callable[[NotebookNode], None], float] | None = None,
) -> ExecutionResult:
    """Stage ``execute``: run every cell of an already prepared *nb* on a fresh kernel.

    *supply* says how the kernel starts, waits and is shut down (a fake
    kernel in unit tests, the fork server and the batch's gate in a batch);
    *autosave* is (save, every seconds): the snapshot is saved so during the run.
    """
    execution = NotebookExecution(nb, options, observer=observer, control=control, supply=supply)
    async with _autosaving(execution, autosave):
        return await execution.run()


def local_execute(
    *,
    control: RunControl | None = None,
    supply: KernelSupply | None = None,
) -> ExecuteStage:
    """The ``execute`` stage of a local file run (autosaving when the file options ask)."""

    async def execute(prepared: Prepared) -> ExecutionResult:
        every = prepared.run.file.autosave_seconds
        return await execute_notebook(
            prepared.notebook,
            prepared.options,
            observer=prepared.observer,
            control=control,
            supply=supply,
            autosave=(partial(save, prepared), every) if every and isinstance(prepared.run.target, Path) else None,
        )

    return execute


def save(prepared: Prepared, nb: NotebookNode) -> None:
    """*nb* to the run's target (NotebookWriteError); in place, through the edit guard, which says when it diverts."""
    if prepared.in_place is None:
        write_notebook(nb, prepared.run.target)
        return
    warning = prepared.in_place.write(nb)
    if warning is not None:
        prepared.observer.warning(warning)


def write(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """Stage ``write``: the executed notebook, atomically, to the target; the result says where it went.

    An in-place run whose source was edited while it ran keeps the edit and
    is written beside it (nbrun.notebook.in_place): ``result.diverted_to``.
    """
    save(prepared, result.notebook)
    diverted = prepared.in_place.diverted_to if prepared.in_place is not None else None
    return result if diverted is None else replace(result, diverted_to=diverted)


ReadStage = Callable[[FileRun], NotebookNode]
CheckStage = Callable[[FileRun], None]
WriteStage = Callable[[Prepared, ExecutionResult], ExecutionResult]


def no_targets(run: FileRun) -> None:
    """A ``check`` stage for a pipeline that writes no file (``nbrun check``, an in-memory notebook)."""


def kept_in_memory(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """A ``write`` stage that writes nothing: the caller has the executed notebook in ``result.notebook``."""
    return result


@dataclass(frozen=True)
class Pipeline:
    """Every stage of a file run, each a slot; build a variant with ``dataclasses.replace``.

    ``execute`` has no default: it is where the kernel comes from, so the
    caller that owns the kernel supply fills it (:func:`local_execute`, a
    Dask runner's remote execute) with :meth:`executing`.
    """

    read: ReadStage = read
    check: CheckStage = check_targets
    after_prepare: tuple[AfterPrepare, ...] = ()
    before_execute: tuple[BeforeExecute, ...] = ()
    execute: ExecuteStage | None = None
    post_process: tuple[PostProcess, ...] = ()
    write: WriteStage = write
    after_write: tuple[PostProcess, ...] = ()

    def executing(self, execute: ExecuteStage) -> Pipeline:
        """This pipeline with *execute* in its ``execute`` slot."""
        return replace(self, execute=execute)

    async def run(self, run: FileRun, observer: ExecutionObserver | None = None) -> ExecutionResult:
        """read → check → prepare → after_prepare → before_execute → execute → post_process → write → after_write."""
        if self.execute is None:
            raise TypeError("Pipeline.run needs an execute stage: pipeline.executing(local_execute(...))")
        writes_file = self.write is write  # only a run written back to its file needs the edit guard
        guard = InPlaceGuard(run.source) if writes_file and run.in_place and isinstance(run.source, Path) else None
        nb = self.read(run)
        self.check(run)
        prepared = replace(prepare(run, nb, observer or ExecutionObserver()), in_place=guard)
        for stage in self.after_prepare:
            prepared = stage(prepared)
        result = await self.lookup(prepared)
        if result is None:
            result = await self.execute(prepared)
        if prepared.options.parameters:
            result = replace(result, parameters=json_safe(dict(prepared.options.parameters)))
        return self.finish(prepared, result)

    async def lookup(self, prepared: Prepared) -> ExecutionResult | None:
        """The first ready result a ``before_execute`` stage offers (None: execute); a stage may be awaited."""
        for stage in self.before_execute:
            ready = stage(prepared)
            if inspect.isawaitable(ready):
                ready = await ready
            if ready is not None:
                return ready
        return None

    def finish(self, prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
        """post_process → write → after_write; the run is written even when a post-process stage fails."""
        try:
            for stage in self.post_process:
                result = stage(prepared, result)
        except NbrunError as exc:
            written = self.write(prepared, result)  # keep the run even if e.g. the images could not be written
            exc.after_run = _how_it_ran(written, prepared)
            raise
        result = self.write(prepared, result)
        try:
            for stage in self.after_write:
                result = stage(prepared, result)
        except NbrunError as exc:
            exc.after_run = _how_it_ran(result, prepared)
            raise
        return result


def _how_it_ran(result: ExecutionResult, prepared: Prepared) -> str:
    where = result.diverted_to or prepared.run.target
    return f"the notebook ran ({result.status.value}) and was written to {where_name(where)}"


@contextlib.asynccontextmanager
async def _autosaving(
    execution: NotebookExecution, autosave: tuple[Callable[[NotebookNode], None], float] | None
) -> AsyncIterator[None]:
    """Rewrite the target every so many seconds while the body runs."""
    if autosave is None:
        yield
        return
    save_snapshot, every = autosave

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            if execution.started:
                try:
                    save_snapshot(execution.snapshot())
                except NbrunError as exc:
                    execution.observer.warning(f"autosave failed: {exc}")

    task = asyncio.ensure_future(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
