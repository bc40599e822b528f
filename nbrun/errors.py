"""Typed errors raised by nbrun.

NbrunError
├── NotebookError            the notebook cannot be read, parsed or written
│   ├── NotebookReadError
│   └── NotebookWriteError
│       └── BrokenImagesError  ``strict_images``: undecodable image payloads (the notebook was written)
├── ParameterError           parameters cannot be applied
├── KernelError              the kernel could not be used
│   ├── NoSuchKernelError    an unknown kernel name (lists the installed ones)
│   └── KernelStartError
└── ExecutionError           a run ended without success (raised by
    │                        ``ExecutionResult.raise_for_status``)
    ├── CellExecutionError   a cell raised
    ├── CellTimeoutError     a cell or the notebook ran out of time
    ├── DeadKernelError      the kernel died while running
    └── ExecutionInterrupted the run was stopped from outside
"""

from __future__ import annotations

from pathlib import Path


class NbrunError(Exception):
    """Base class of every error nbrun raises on purpose."""


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


class NotebookWriteError(NotebookError):
    """The executed notebook could not be written."""


class BrokenImagesError(NotebookWriteError):
    """``strict_images``: some image payloads could not be decoded (the notebook was written)."""


class ParameterError(NbrunError):
    """Parameters cannot be applied (a value, the kernel language, an unknown name)."""


class KernelError(NbrunError):
    """The kernel could not be used."""


class NoSuchKernelError(KernelError):
    """The requested kernel is not installed."""

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = available
        listing = ", ".join(sorted(available)) or "none"
        super().__init__(f"no kernel named {name!r} is installed (installed kernels: {listing})")

    def __reduce__(self) -> tuple[type, tuple[str, list[str]]]:
        return (type(self), (self.name, self.available))


class KernelStartError(KernelError):
    """The kernel process did not start or did not answer in time."""


class ExecutionError(NbrunError):
    """A run ended without success; carries the cell index when known."""

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


class DeadKernelError(ExecutionError):
    """The kernel process died while the notebook was running."""


class IncompleteOutputError(ExecutionError):
    """A cell's IOPub stream is known to be incomplete (messages were lost)."""


class ExecutionInterrupted(ExecutionError):
    """The run was interrupted (a signal or a stop request)."""
