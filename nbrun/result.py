"""What a run produced: the notebook, per-cell records and the overall status."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from nbformat import NotebookNode

from .errors import (
    CellExecutionError,
    CellTimeoutError,
    DeadKernelError,
    ExecutionError,
    ExecutionInterrupted,
)


class RunStatus(str, enum.Enum):
    """Overall status of a notebook run."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel-died"
    INTERRUPTED = "interrupted"


class CellStatus(str, enum.Enum):
    """What happened to one code cell."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel-died"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"  # tagged skip-execution
    EMPTY = "empty"  # no code to send
    NOT_RUN = "not-run"  # the run stopped before this cell


@dataclass
class CellRecord:
    """One code cell's run."""

    index: int
    status: CellStatus
    duration: float | None = None
    execution_count: int | None = None
    ename: str | None = None
    evalue: str | None = None
    timed_out_after: float | None = None
    actions: list[str] = field(default_factory=list)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self.index, "status": self.status.value}
        for key in ("duration", "execution_count", "ename", "evalue", "timed_out_after", "note"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.actions:
            data["actions"] = list(self.actions)
        return data


@dataclass
class ExecutionResult:
    """The executed notebook and how the run went."""

    notebook: NotebookNode
    status: RunStatus
    cells: list[CellRecord]
    kernel_name: str
    started_at: str
    finished_at: str
    duration: float
    failed_cell: int | None = None
    ename: str | None = None
    evalue: str | None = None
    message: str | None = None
    kernel_output: str = ""
    restarts: int = 0
    interrupted_by: str | None = None
    extracted_files: Sequence[Path | str] = field(default_factory=list)  # str: an uploaded image's URL
    image_warnings: list[str] = field(default_factory=list)
    broken_images: int = 0

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK

    def raise_for_status(self) -> None:
        """Raise the typed ExecutionError that matches a failed run."""
        if self.ok:
            return
        message = self.message or self.status.value
        error: ExecutionError
        if self.status is RunStatus.ERROR:
            error = CellExecutionError(message, self.failed_cell, self.ename or "", self.evalue or "")
        elif self.status is RunStatus.TIMEOUT:
            error = CellTimeoutError(message, self.failed_cell)
        elif self.status is RunStatus.KERNEL_DIED:
            error = DeadKernelError(message, self.failed_cell)
        else:
            error = ExecutionInterrupted(message, self.failed_cell)
        raise error

    def metadata(self) -> dict[str, Any]:
        """The run record stored in ``metadata.nbrun``."""
        record: dict[str, Any] = {
            "status": self.status.value,
            "kernel": self.kernel_name,
            "start": self.started_at,
            "end": self.finished_at,
            "duration": round(self.duration, 3),
        }
        if self.failed_cell is not None:
            record["failed_cell"] = self.failed_cell
        if self.ename is not None:
            record["error"] = {"ename": self.ename, "evalue": self.evalue or ""}
        if self.message:
            record["message"] = self.message
        if self.restarts:
            record["kernel_restarts"] = self.restarts
        if self.interrupted_by:
            record["interrupted_by"] = self.interrupted_by
        return record
