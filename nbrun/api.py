"""The public entry points: execute a notebook node, or run a file (sync and async).

Thin wrappers over ``nbrun.pipeline.core``; the only sync bridge is :func:`run_sync`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from nbformat import NotebookNode

from .control import RunControl
from .events import ExecutionObserver
from .notebook.text import executed_target
from .options import ExecuteOptions, FileOptions
from .pipeline.core import FileRun, execute_notebook, inject_run_parameters
from .pipeline.default import run_file
from .result import ExecutionResult
from .storage.locations import as_where

T = TypeVar("T")


async def async_execute(
    nb: NotebookNode,
    options: ExecuteOptions | None = None,
    *,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
) -> ExecutionResult:
    """Execute *nb* in place and return the result (never raises for a cell error).

    Runs the ``prepare`` (parameters) and ``execute`` stages of the pipeline.
    Call ``result.raise_for_status()`` to turn a failed run into an exception.
    Raises NoSuchKernelError / KernelStartError if no kernel could be started.
    """
    options = options or ExecuteOptions()
    observer = observer or ExecutionObserver()
    for warning in inject_run_parameters(nb, options):
        observer.warning(warning)
    return await execute_notebook(nb, options, observer=observer, control=control)


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
    target = executed_target(source) if output_path is None else as_where(output_path)
    run = FileRun(source, target, options or ExecuteOptions(), file_options or FileOptions())
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


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run *coro* to completion from synchronous code.

    Without a running loop this is ``asyncio.run``; inside one (a Jupyter
    kernel, an async server) the coroutine runs on a helper thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="nbrun-run-sync")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
