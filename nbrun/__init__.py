"""nbrun: a headless batch executor for Jupyter notebooks.

The library never prints, exits or reads argv; ``nbrun.cli`` does that.
"""

from .api import async_execute, async_run_path, execute, run_path
from .control import RunControl
from .errors import (
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
)
from .events import ExecutionObserver
from .notebook_io import read_notebook, write_notebook
from .options import ExecuteOptions
from .result import CellRecord, CellStatus, ExecutionResult, RunStatus

__version__ = "0.1.0"

__all__ = [
    "CellExecutionError",
    "CellRecord",
    "CellStatus",
    "CellTimeoutError",
    "DeadKernelError",
    "ExecuteOptions",
    "ExecutionError",
    "ExecutionInterrupted",
    "ExecutionObserver",
    "ExecutionResult",
    "KernelError",
    "KernelStartError",
    "NbrunError",
    "NoSuchKernelError",
    "NotebookError",
    "NotebookReadError",
    "NotebookWriteError",
    "RunControl",
    "RunStatus",
    "__version__",
    "async_execute",
    "async_run_path",
    "execute",
    "read_notebook",
    "run_path",
    "write_notebook",
]
