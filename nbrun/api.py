"""The public entry points: execute a notebook node, or run a file (sync and async).

Thin wrappers over ``nbrun.pipeline``; the only sync bridge is :func:`nbrun.sync.run_sync`.
"""

from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode

from .control import RunControl
from .events import ExecutionObserver
from .notebook.files import read_from
from .notebook.output_template import render_output, template_fields
from .notebook.text import executed_target
from .options import ExecuteOptions, FileOptions
from .pipeline.core import FileRun, Pipeline, kept_in_memory, local_execute, no_targets
from .pipeline.default import run_file
from .result import ExecutionResult
from .storage.locations import as_where
from .sync import run_sync

# An in-memory notebook's run names no file: its read hands the notebook over, its
# write keeps it, and its kernel runs in options.cwd (default: the current folder).
_IN_MEMORY = Path("<in memory>")


async def async_execute(
    nb: NotebookNode,
    options: ExecuteOptions | None = None,
    *,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
) -> ExecutionResult:
    """Execute *nb* in place and return the result (never raises for a cell error).

    The file pipeline's ``prepare`` (parameters) and ``execute`` stages; the
    notebook is neither read from nor written to a file.
    Call ``result.raise_for_status()`` to turn a failed run into an exception.
    Raises NoSuchKernelError / KernelStartError if no kernel could be started.
    """
    options = options or ExecuteOptions()
    if options.cwd is None:
        options = options.with_changes(cwd=Path.cwd())
    pipeline = Pipeline(
        read=lambda run: nb,
        check=no_targets,
        execute=local_execute(control=control),
        write=kept_in_memory,
    )
    return await pipeline.run(FileRun(_IN_MEMORY, _IN_MEMORY, options), observer)


def execute(
    nb: NotebookNode,
    options: ExecuteOptions | None = None,
    *,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
) -> ExecutionResult:
    """Synchronous :func:`async_execute`; works inside a running event loop too."""
    return run_sync(async_execute(nb, options, observer=observer, control=control))


async def async_run_path(
    input_path: Path | str,
    output_path: Path | str | None = None,
    options: ExecuteOptions | None = None,
    *,
    file_options: FileOptions | None = None,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
) -> ExecutionResult:
    """Read *input_path*, execute it and write it to *output_path* (default: in place).

    Either may be a URL (fsspec, the remote extra); a text notebook (jupytext,
    the text extra) is written by default as ``<stem>.ipynb`` beside it.
    *output_path* may hold ``{parameter}`` fields, formatted as ``-o`` is: the
    given parameters first, then the notebook's declared defaults.

    The whole file pipeline (see ``nbrun.pipeline.core``). The kernel runs in the
    notebook's folder (a local scratch folder for a URL) unless
    ``options.cwd`` is set. The notebook is written even when the run
    fails, with the failure recorded in it; with
    ``file_options.autosave_seconds`` it is also rewritten periodically
    during the run. With ``file_options.extract_images`` the image outputs
    are written as files first (``result.extracted_files``).
    Raises NotebookReadError, NotebookWriteError (ImageConflictError for a
    foreign file in the images folder, BrokenImagesError with
    ``strict_images``), ParameterError, NoSuchKernelError or KernelStartError.
    """
    source = as_where(input_path)
    options = options or ExecuteOptions()
    target = executed_target(source) if output_path is None else as_where(output_path)
    if output_path is not None and template_fields(target):  # "out/{date}.ipynb", as the CLI formats -o
        target = render_output(target, options.parameters or {}, lambda: read_from(source))
    run = FileRun(source, target, options, file_options or FileOptions())
    return await run_file(run, observer=observer, control=control)


def run_path(
    input_path: Path | str,
    output_path: Path | str | None = None,
    options: ExecuteOptions | None = None,
    *,
    file_options: FileOptions | None = None,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
) -> ExecutionResult:
    """Synchronous :func:`async_run_path`."""
    return run_sync(
        async_run_path(input_path, output_path, options, file_options=file_options, observer=observer, control=control)
    )
