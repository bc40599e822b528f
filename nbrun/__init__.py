"""nbrun: a headless batch executor for Jupyter notebooks.

The library never prints, exits or reads argv; ``nbrun.cli`` does that.
Names are imported on first use, so ``import nbrun`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__ as __version__

_EXPORTS = {
    "async_execute": "api",
    "async_run_path": "api",
    "execute": "api",
    "run_path": "api",
    "BatchJob": "runners.batch",
    "BatchOutcome": "runners.batch",
    "run_batch": "runners.batch",
    "RunControl": "control",
    "CellExecutionError": "errors",
    "CellTimeoutError": "errors",
    "DeadKernelError": "errors",
    "ExecutionError": "errors",
    "ExecutionInterrupted": "errors",
    "KernelError": "errors",
    "KernelStartError": "errors",
    "NbrunError": "errors",
    "NoSuchKernelError": "errors",
    "NotebookError": "errors",
    "NotebookReadError": "errors",
    "NotebookWriteError": "errors",
    "ParameterError": "errors",
    "ExecutionObserver": "events",
    "read_notebook": "notebook.files",
    "write_notebook": "notebook.files",
    "BatchOptions": "options",
    "ExecuteOptions": "options",
    "FileOptions": "options",
    "BrokenImagesError": "errors",
    "FileRun": "pipeline.core",
    "Pipeline": "pipeline.core",
    "CellRecord": "result",
    "CellStatus": "result",
    "ExecutionResult": "result",
    "Failure": "result",
    "ImageReport": "result",
    "RunStatus": "result",
    "record": "values.recording",
    "read_results": "values.results",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nbrun' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from .api import async_execute, async_run_path, execute, run_path
    from .control import RunControl
    from .errors import (
        BrokenImagesError,
        CellExecutionError,
        CellTimeoutError,
        DeadKernelError,
        ExecutionError,
        ExecutionInterrupted,
        KernelError,
        KernelStartError,
        NbrunError,
        NoSuchKernelError,
        NotebookError,
        NotebookReadError,
        NotebookWriteError,
        ParameterError,
    )
    from .events import ExecutionObserver
    from .notebook.files import read_notebook, write_notebook
    from .options import BatchOptions, ExecuteOptions, FileOptions
    from .pipeline.core import FileRun, Pipeline
    from .result import CellRecord, CellStatus, ExecutionResult, Failure, ImageReport, RunStatus
    from .runners.batch import BatchJob, BatchOutcome, run_batch
