"""Every error nbrun raises on purpose, and the outcome each one means.

Each class carries the :class:`~nbrun.status.RunStatus` a job that raised it
ends with (``status``), as click's ``ClickException`` carries ``exit_code``:
the batch, the JSON record, JUnit, the summary and the exit code all read it.

NbrunError                      status (exit code)
├── NotebookError               io-error (5)     a notebook cannot be read, parsed or written
│   ├── NotebookReadError       invalid (5)      missing, unreadable, not JSON, not a valid notebook
│   └── NotebookWriteError      io-error (5)     the executed notebook could not be written
│       ├── BrokenImagesError   io-error (5)     ``strict_images``: undecodable payloads (the notebook was written)
│       ├── ImageConflictError  io-error (5)     an image file exists that nbrun did not write
│       ├── ImageWriteError     io-error (5)     an image file or the manifest could not be written
│       └── UploadError         io-error (5)     an upload failed; ``kept`` holds what was to be written
├── UsageError                  usage-error (2)  the request itself cannot be carried out
│   ├── ParameterError                           parameters cannot be applied
│   ├── MissingExtraError                        an optional feature is used without its extra
│   ├── LocationError                            a URL's scheme is unknown or its filesystem package missing
│   ├── SanitizerFileError                       an nbval sanitizer file is unreadable or holds a bad regex
│   ├── SecretError                              a secret is missing, too short, or its file is open to others
│   └── NotebookEnvironmentError environment-failed (2) the notebook's own environment
│       ├── EnvironmentDeclarationError          its declarations (PEP 723, metadata.uv, uv.lock) cannot be read
│       └── EnvironmentBuildError                uv could not build it (unknown package, no network, a conflict)
├── CacheError                  io-error (5)     the execution cache
│   ├── CorruptEntryError                        a stored entry could not be read back whole (a miss)
│   └── CacheStoreError                          the store could not be changed (also an OSError)
├── KernelError                 kernel-failed (4) the kernel could not be used
│   ├── NoSuchKernelError                        an unknown kernel name (lists the installed ones)
│   ├── KernelStartError                         the kernel did not start or answer in time
│   ├── KernelLookupError                        the cache could not identify the kernel
│   ├── DaskConnectError                         the scheduler could not be reached
│   ├── WorkerLostError                          the task was lost with its worker too often
│   └── DaskTaskError                            the task failed on the worker outside the notebook
└── ExecutionError              error (1)        a run ended without success (``ExecutionResult.raise_for_status``)
    ├── CellExecutionError      error (1)        a cell raised
    ├── CellTimeoutError        timeout (3)      a cell or the notebook ran out of time
    ├── DeadKernelError         kernel-died (4)  the kernel died while running
    ├── IncompleteOutputError   incomplete (4)   a cell's IOPub messages were lost
    └── ExecutionInterrupted    interrupted (130) the run was stopped from outside
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, ClassVar

from .status import RunStatus


class NbrunError(Exception):
    """Base class of every error nbrun raises on purpose; ``status`` is the outcome it means."""

    status: ClassVar[RunStatus] = RunStatus.IO_ERROR
    # Set when the error came after the cells ran and the notebook was written (an images folder
    # refused, an HTML page unwritable): how the run itself went, so a front end can say both.
    after_run: str | None = None


class NotebookError(NbrunError):
    """A notebook could not be read or written."""

    def __init__(self, path: Path | str | None, problem: str) -> None:
        self.path = None if path is None else path if _is_url(path) else Path(path)  # a URL stays a string
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")

    def __reduce__(self) -> tuple[type, tuple[Path | str | None, str]]:
        return (type(self), (self.path, self.problem))


def _is_url(path: Path | str) -> bool:
    return isinstance(path, str) and "://" in path


class NotebookReadError(NotebookError):
    """The input is missing, unreadable, not JSON, or not a valid notebook."""

    status = RunStatus.INVALID


class NotebookWriteError(NotebookError):
    """The executed notebook could not be written."""


class BrokenImagesError(NotebookWriteError):
    """``strict_images``: some image payloads could not be decoded (the notebook was written)."""


class ImageConflictError(NotebookWriteError):
    """An image file exists that nbrun did not write for this notebook."""


class ImageWriteError(NotebookWriteError):
    """An image file or the manifest could not be written."""


class UploadError(NotebookWriteError):
    """An upload failed; ``kept`` is the local file that holds what was to be written."""

    def __init__(self, path: Path | str | None, problem: str, kept: Path | None = None) -> None:
        self.kept = kept
        super().__init__(path, problem)

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return (type(self), (self.path, self.problem, self.kept))


class UsageError(NbrunError):
    """The request cannot be carried out as asked (exit 2, as a wrong flag)."""

    status = RunStatus.USAGE_ERROR


class ParameterError(UsageError):
    """Parameters cannot be applied (a value, the kernel language, an unknown name)."""


class MissingExtraError(UsageError):
    """An optional feature was used without its extra installed; the message names the extra."""

    def __init__(self, what: str, extra: str) -> None:
        self.what, self.extra = what, extra
        super().__init__(f"{what} needs the {extra} extra: pip install 'jupyter-nbrun[{extra}]'")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.what, self.extra))


class LocationError(UsageError):
    """A URL names an unknown scheme or one whose filesystem package is missing."""


class SanitizerFileError(UsageError):
    """A sanitizer file is unreadable or holds a bad regular expression."""


class SecretError(UsageError):
    """A secret cannot be used: missing, shorter than redaction allows, or its file readable by others.

    The message names the secret, never its value.
    """


class NotebookEnvironmentError(UsageError):
    """The notebook's own environment (``nbrun.environments``) cannot be had; nothing of it ran."""

    status = RunStatus.ENVIRONMENT_FAILED


class EnvironmentDeclarationError(NotebookEnvironmentError):
    """A PEP 723 block, ``metadata.uv`` or ``metadata["uv.lock"]`` cannot be read."""


class EnvironmentBuildError(NotebookEnvironmentError):
    """uv could not build the environment; the message is uv's reason, on one line."""


class CacheError(NbrunError):
    """The execution cache could not be read or changed."""


class CorruptEntryError(CacheError):
    """A stored entry could not be read back whole (treated as a miss)."""


class CacheStoreError(CacheError, OSError):
    """The store could not be changed (e.g. an entry could not be removed)."""


class KernelError(NbrunError):
    """The kernel could not be used."""

    status = RunStatus.KERNEL_FAILED


class NoSuchKernelError(KernelError):
    """The requested kernel is not installed."""

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = available
        listing = ", ".join(sorted(available)) or "none"
        close = difflib.get_close_matches(name, available, n=1)
        likely = close[0] if close else "python3" if "python3" in available else min(available, default="")
        choose = f"; choose one with -k, e.g. -k {likely}" if likely else ""
        super().__init__(f"no kernel named {name!r} is installed (installed kernels: {listing}){choose}")

    def __reduce__(self) -> tuple[type, tuple[str, list[str]]]:
        return (type(self), (self.name, self.available))


class KernelStartError(KernelError):
    """The kernel process did not start or did not answer in time."""


class KernelLookupError(KernelError):
    """The cache could not find the kernel's spec to identify it (the run itself reports the kernel)."""


class DaskConnectError(KernelError):
    """The Dask scheduler could not be reached or the local cluster not started."""


class WorkerLostError(KernelError):
    """The task was lost with its worker more often than the retries allow."""


class DaskTaskError(KernelError):
    """The task failed on the worker for a reason outside the notebook."""


class ExecutionError(NbrunError):
    """A run ended without success; carries the cell index when known."""

    status = RunStatus.ERROR

    def __init__(self, message: str, cell_index: int | None = None) -> None:
        self.cell_index = cell_index
        super().__init__(message)

    def __reduce__(self) -> tuple[type, tuple[str, int | None]]:
        return (type(self), (self.args[0], self.cell_index))


class CellExecutionError(ExecutionError):
    """A cell raised an exception in the kernel."""

    def __init__(self, message: str, cell_index: int | None = None, ename: str = "", evalue: str = "") -> None:
        super().__init__(message, cell_index)
        self.ename = ename
        self.evalue = evalue

    def __reduce__(self) -> tuple[type, tuple[str, int | None, str, str]]:  # type: ignore[override]
        return (type(self), (self.args[0], self.cell_index, self.ename, self.evalue))


class CellTimeoutError(ExecutionError):
    """A cell, or the whole notebook, exceeded its time limit."""

    status = RunStatus.TIMEOUT


class DeadKernelError(ExecutionError):
    """The kernel process died while the notebook was running."""

    status = RunStatus.KERNEL_DIED


class IncompleteOutputError(ExecutionError):
    """A cell's IOPub stream is known to be incomplete (messages were lost)."""

    status = RunStatus.INCOMPLETE


class ExecutionInterrupted(ExecutionError):
    """The run was interrupted (a signal or a stop request)."""

    status = RunStatus.INTERRUPTED
