"""The public entry points: execute a notebook node, or run a file."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any, AsyncContextManager, AsyncIterator, Callable, Coroutine, TypeVar

from nbformat import NotebookNode

from .control import RunControl
from .errors import NbrunError, NotebookWriteError
from .events import ExecutionObserver
from .executor import NotebookExecution
from .locations import Location, Where, as_where
from .notebook_io import write_notebook
from .notebook_store import absolute_image_links, extract_images_to, kernel_cwd, read_from
from .options import ExecuteOptions
from .result import ExecutionResult
from .text_notebooks import executed_target

T = TypeVar("T")


async def async_execute(
    nb: NotebookNode,
    options: ExecuteOptions | None = None,
    *,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
) -> ExecutionResult:
    """Execute *nb* in place and return the result (never raises for a cell error).

    Call ``result.raise_for_status()`` to turn a failed run into an exception.
    Raises NoSuchKernelError / KernelStartError if no kernel could be started.
    """
    execution = NotebookExecution(nb, options or ExecuteOptions(), observer=observer, control=control)
    return await execution.run()


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
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
) -> ExecutionResult:
    """Read *input_path*, execute it and write it to *output_path* (default: in place).

    Either may be a URL (fsspec, the remote extra); a text notebook (jupytext,
    the text extra) is written by default as ``<stem>.ipynb`` beside it.

    The kernel runs in the notebook's folder unless ``options.cwd`` is set.
    The notebook is written even when the run fails, with the failure
    recorded in it; with ``options.autosave_seconds`` it is also rewritten
    periodically during the run. With ``options.extract_images`` the image
    outputs are written as files first (``result.extracted_files``).
    Raises NotebookReadError, NotebookWriteError (ImageConflictError for a
    foreign file in the images folder), NoSuchKernelError or KernelStartError.
    """
    return await run_file(as_where(input_path), None if output_path is None else as_where(output_path),
                          options or ExecuteOptions(), observer=observer, control=control)


async def run_file(
    source: Where,
    target: Where | None,
    options: ExecuteOptions,
    *,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
    ready_gate: Callable[[], AsyncContextManager[Any]] | None = None,
    reap_in_background: bool = False,
) -> ExecutionResult:
    """:func:`async_run_path` plus the hooks a batch needs (see NotebookExecution)."""
    target = target if target is not None else executed_target(source)  # text notebooks: <stem>.ipynb beside
    nb, options = load_for_run(source, options)
    execution = NotebookExecution(nb, options, observer=observer, control=control,
                                  ready_gate=ready_gate, reap_in_background=reap_in_background)
    async with _autosaving(execution, target, options.autosave_seconds):
        result = await execution.run()
    return save_result(result, source, target, options)


def load_for_run(source: Where, options: ExecuteOptions) -> tuple[NotebookNode, ExecuteOptions]:
    """Read *source* and default the kernel cwd to its folder (absolute, so a remote worker can use it)."""
    nb = read_from(source)  # a path or URL; .ipynb or a jupytext text notebook
    if options.cwd is None:
        options = options.with_changes(cwd=kernel_cwd(source))  # a URL's notebook runs in a local scratch folder
    return nb, options


def save_result(result: ExecutionResult, source: Where, target: Where, options: ExecuteOptions) -> ExecutionResult:
    """Extract images (if asked) and write the executed notebook; shared by local and remote runs."""
    if isinstance(options.extract_images, Location):  # a remote images folder: staged, then uploaded
        try:
            written, warnings, broken = extract_images_to(result.notebook, stem=source.stem, images_dir=options.extract_images,
                                                          target=target, options=options, source_id=str(source.resolve()))
        except NotebookWriteError:
            write_notebook(result.notebook, target)
            raise
        result.extracted_files, result.image_warnings, result.broken_images = list(written), warnings, broken
    elif options.extract_images is not None:
        from .images import extract_images  # Pillow is imported only when needed

        try:
            report = extract_images(
                result.notebook,
                stem=source.stem,
                images_dir=options.extract_images,
                notebook_dir=target.resolve().parent if isinstance(target, Path) else options.extract_images,
                options=options,
                source_id=str(source.resolve()),
            )
        except NotebookWriteError:
            write_notebook(result.notebook, target)  # keep the run even if the images could not be written
            raise
        result.extracted_files = report.written
        if not isinstance(target, Path):  # a remote notebook links local images by absolute path
            absolute_image_links(result.notebook, options.extract_images.resolve().as_posix())
        result.image_warnings = report.warnings
        result.broken_images = report.broken
    write_notebook(result.notebook, target)
    return result


def run_path(
    input_path: Path | str,
    output_path: Path | str | None = None,
    options: ExecuteOptions | None = None,
    *,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
) -> ExecutionResult:
    """Synchronous :func:`async_run_path`."""
    return run_sync(async_run_path(input_path, output_path, options, observer=observer, control=control))


@contextlib.asynccontextmanager
async def _autosaving(execution: NotebookExecution, target: Where, every: float | None) -> AsyncIterator[None]:
    """Rewrite *target* every *every* seconds while the body runs."""
    if not every:
        yield
        return

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            if execution.started:
                try:
                    write_notebook(execution.snapshot(), target)
                except NbrunError as exc:
                    execution.observer.warning(f"autosave failed: {exc}")

    task = asyncio.ensure_future(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


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
