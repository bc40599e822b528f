"""Run a notebook for a check: read -> mark cells -> prepare -> execute -> compare -> update.

A pipeline of the file run's stages: ``prepare`` and ``execute`` run
unchanged; ``compare`` fills the ``write`` slot (the stored file is the
expected value).

:class:`CheckRunner` is a batch runner (``nbrun.runners.batch.Runner``): the batch
calls it per notebook and gets the executed result with ``result.check`` set.
The stored file is only rewritten with ``update=True``, for a run that went
through, and only in the cells that differ.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType

from nbformat import NotebookNode

from ..control import RunControl
from ..errors import NbrunError, NotebookReadError
from ..events import ExecutionObserver
from ..kernel.supply import KernelSupply, kernel_supply
from ..notebook.files import read_notebook
from ..options import ExecuteOptions
from ..pipeline.core import FileRun, Pipeline, Prepared, local_execute, no_targets
from ..result import ExecutionResult
from ..runners.batch import BatchJob
from ..sync import run_sync
from .compare import check_notebook
from .markers import prepare_for_run
from .model import CheckOptions, CheckReport
from .update import accept_outputs


def read_stored(source: Path) -> tuple[str, NotebookNode]:
    """The notebook's text as stored and the parsed notebook (NotebookReadError if unusable)."""
    nb = read_notebook(source)
    try:
        return source.read_bytes().decode("utf-8"), nb  # line endings as stored (an update keeps them)
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookReadError(source, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None


class _CheckStages:
    """The ``read`` and ``write`` slots of one check: read marks the cells to run, write compares.

    They share the stored notebook (the expected value) and its text (an
    update keeps its line endings), read once.
    """

    def __init__(self, source: Path, options: ExecuteOptions, check: CheckOptions, update: bool) -> None:
        self.source, self.options, self.check, self.update = source, options, check, update
        self.text, self.stored = "", NotebookNode()

    def read(self, run: FileRun) -> NotebookNode:
        self.text, self.stored = read_stored(self.source)
        return prepare_for_run(self.stored, skip_tag=self.options.skip_tag, raises_tag=self.options.raises_tag)

    def compare(self, prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
        if not result.ok:
            return result
        report = check_notebook(self.stored, result.notebook, self.check)
        if self.update and not report.matches:
            report = _update(self.source, self.text, result.notebook, report)
        return result.with_report("check", report)


async def run_and_check(
    source: Path,
    options: ExecuteOptions,
    check: CheckOptions,
    *,
    update: bool = False,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
    supply: KernelSupply | None = None,
) -> ExecutionResult:
    """Execute a copy of *source* and compare it with the stored outputs (``result.check``).

    A pipeline of the file run's stages: ``read`` marks the cells, ``check``
    has no target to test (the stored file is only rewritten by an update),
    ``write`` compares. ``result.check`` is None when the run did not go
    through (the run's own status says why). Raises what running a file
    raises (NotebookReadError, KernelError...).
    """
    stages = _CheckStages(source, options, check, update)
    pipeline = Pipeline(
        read=stages.read,
        check=no_targets,
        execute=local_execute(control=control, supply=supply),
        write=stages.compare,
    )
    return await pipeline.run(FileRun(source, source, options), observer)


def check_file(
    source: Path | str,
    options: ExecuteOptions | None = None,
    check: CheckOptions | None = None,
    *,
    update: bool = False,
) -> ExecutionResult:
    """Synchronous :func:`run_and_check` (what a pytest item calls); ``result.check`` holds the verdict."""
    return run_sync(run_and_check(Path(source), options or ExecuteOptions(), check or CheckOptions(), update=update))


def _update(source: Path, text: str, executed: NotebookNode, report: CheckReport) -> CheckReport:
    try:
        accept_outputs(source, text, executed, report.mismatched_cells)
    except NbrunError as exc:
        return report.with_changes(update_error=str(exc))
    return report.with_changes(updated=True)


class CheckRunner:
    """A batch runner that checks each job's notebook (its target is never written).

    Used as an async context manager around the batch, it keeps one warm
    fork template for all kernels when *fast_start* (as ``nbrun run`` does).
    """

    def __init__(
        self, check: CheckOptions, *, update: bool = False, fast_start: bool = True, preload: tuple[str, ...] = ()
    ) -> None:
        self.check = check
        self.update = update
        self._fast_start = fast_start
        self._preload = preload
        self._scope = contextlib.AsyncExitStack()
        self._supply = KernelSupply()

    async def __call__(self, job: BatchJob, observer: ExecutionObserver, control: RunControl) -> ExecutionResult:
        if not isinstance(job.source, Path):
            raise NotebookReadError(str(job.source), "nbrun check compares with a local notebook file, not a URL")
        return await run_and_check(
            job.source,
            job.options,
            self.check,
            update=self.update,
            observer=observer,
            control=control,
            supply=self._supply,
        )

    async def __aenter__(self) -> CheckRunner:
        self._supply = await self._scope.enter_async_context(kernel_supply(self._fast_start, self._preload))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._scope.aclose()  # waits for every kernel to be shut down
