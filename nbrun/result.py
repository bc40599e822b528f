"""What a run produced: per-cell records, the failure that ended it, the result.

Everything here is frozen and built once: the executor makes a
:class:`CellRecord` per code cell and one :class:`ExecutionResult`; the file
pipeline attaches what later stages report (the :class:`ImageReport`, and
any further report under a name in ``reports``) with ``dataclasses.replace``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbformat import NotebookNode

from .errors import (
    CellExecutionError,
    CellTimeoutError,
    DeadKernelError,
    ExecutionError,
    ExecutionInterrupted,
    IncompleteOutputError,
)
from .status import CellStatus, RunStatus

__all__ = [
    "CellRecord",
    "CellStatus",
    "ExecutionResult",
    "Failure",
    "ImageReport",
    "KernelDeath",
    "RunStatus",
    "Truncation",
]

if TYPE_CHECKING:  # the features' report types, for the typed views only
    from .cache.use import CacheUse
    from .check.model import CheckReport
    from .values.expectations import Verdict
    from .values.scraps import RecordedValues


REDACTIONS = "redactions"  # the report (and metadata.nbrun key) counting replaced secret values


@dataclass(frozen=True)
class KernelDeath:
    """The kernel process ended while (or just after) a cell ran."""

    returncode: int | None
    signal: str | None
    reason: str
    stderr_tail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "returncode": self.returncode,
            "signal": self.signal,
            "reason": self.reason,
            "stderr_tail": self.stderr_tail,
        }


@dataclass(frozen=True)
class Truncation:
    """Output past ``max_output_bytes`` that was dropped."""

    dropped_bytes: int
    dropped_messages: int

    def to_json(self) -> dict[str, int]:
        return {"dropped_bytes": self.dropped_bytes, "dropped_messages": self.dropped_messages}


@dataclass(frozen=True)
class CellRecord:
    """One code cell's run; ``cell_record.cell_metadata`` writes it into the notebook."""

    index: int
    status: CellStatus
    duration: float | None = None
    execution_count: int | None = None
    ename: str | None = None
    evalue: str | None = None
    timed_out_after: float | None = None
    actions: tuple[str, ...] = ()
    note: str | None = None
    started: bool = True  # False: the run was stopped before this cell was sent
    timeout_limit: str | None = None  # "cell timeout" or "notebook timeout"
    kernel_death: KernelDeath | None = None
    truncation: Truncation | None = None
    missing: str | None = None  # what never came ("execute_reply", "iopub idle status", "N IOPub message(s) ...")
    lost_messages: tuple[int, ...] = ()  # the kernel's message numbers that never arrived
    undecodable_messages: int = 0  # IOPub messages that arrived but could not be decoded
    stdin_exhausted: bool = False
    kernel_restarted: str | None = None
    after_cell_code: str | None = None  # code run after the cell (test mocks) that failed
    peak_memory: int | None = None  # bytes: the kernel's process tree at its largest during the cell
    cpu_time: float | None = None  # seconds of CPU the tree used during the cell

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self.index, "status": self.status.value}
        for key in (
            "duration",
            "execution_count",
            "ename",
            "evalue",
            "timed_out_after",
            "note",
            "missing",
            "peak_memory",
            "cpu_time",
        ):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.lost_messages:
            data["lost_messages"] = list(self.lost_messages)
        if self.undecodable_messages:
            data["undecodable_messages"] = self.undecodable_messages
        if self.actions:
            data["actions"] = list(self.actions)
        if self.kernel_death is not None:
            data["kernel_exit"] = self.kernel_death.to_json()
        if self.truncation is not None:
            data["truncated"] = self.truncation.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellRecord:
        """The record :meth:`to_json` wrote (the execution cache rebuilds stored runs with it)."""
        fields = dict(data)
        fields["status"] = CellStatus(fields["status"])
        for key in ("lost_messages", "actions"):
            if key in fields:
                fields[key] = tuple(fields[key])
        if "kernel_exit" in fields:
            fields["kernel_death"] = KernelDeath(**fields.pop("kernel_exit"))
        if "truncated" in fields:
            fields["truncation"] = Truncation(**fields.pop("truncated"))
        return cls(**fields)

    def timeout_json(self) -> dict[str, Any] | None:
        if self.timeout_limit is None:
            return None
        return {"after_seconds": self.timed_out_after, "limit": self.timeout_limit}


@dataclass(frozen=True)
class Failure:
    """Why a run ended early: its status, the cell it ended in and the message."""

    status: RunStatus
    record: CellRecord
    message: str


@dataclass(frozen=True)
class ImageReport:
    """What ``images.extract_images`` did."""

    written: Sequence[Path | str] = field(default_factory=list)  # str: an uploaded image's URL
    warnings: list[str] = field(default_factory=list)
    broken: int = 0


@dataclass(frozen=True)
class ExecutionResult:
    """The executed notebook and how the run went (frozen; see ``with_report``)."""

    notebook: NotebookNode
    status: RunStatus
    cells: tuple[CellRecord, ...]
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
    reports: Mapping[str, Any] = field(default_factory=dict)  # what features found, by feature name
    diverted_to: Path | None = None  # an in-place run's notebook, beside its source edited during the run
    parameters: Mapping[str, Any] | None = None  # the values the run used: given, or kept from an earlier run

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK

    # Typed views of the features' reports (each feature writes its own with ``with_report``).

    @property
    def images(self) -> ImageReport | None:
        """What image extraction wrote and warned (``reports["images"]``)."""
        report: ImageReport | None = self.reports.get("images")
        return report

    @property
    def check(self) -> CheckReport | None:
        """``nbrun check``'s comparison with the stored outputs (``reports["check"]``)."""
        report: CheckReport | None = self.reports.get("check")
        return report

    @property
    def html_file(self) -> Path | str | None:
        """The notebook's HTML page, a path or a URL (``reports["html"]``)."""
        written: Path | str | None = self.reports.get("html")
        return written

    @property
    def cached(self) -> bool:
        """True when the run was replayed from the execution cache (``reports["cache"]``)."""
        use: CacheUse | None = self.reports.get("cache")
        return use is not None and use.replayed

    @property
    def values(self) -> dict[str, Any]:
        """The values the notebook recorded (``nbrun.record``, scrapbook's ``glue``), by name (``reports["values"]``)."""
        recorded: RecordedValues | None = self.reports.get("values")
        return recorded.as_dict() if recorded is not None else {}

    @property
    def recorded_values(self) -> RecordedValues | None:
        """The values with the cell that recorded each (``reports["values"]``)."""
        recorded: RecordedValues | None = self.reports.get("values")
        return recorded

    @property
    def expectations(self) -> tuple[Verdict, ...]:
        """How each expectation went (``reports["expectations"]``; empty without expectations)."""
        verdicts: tuple[Verdict, ...] = self.reports.get("expectations", ())
        return verdicts

    @property
    def cache_use(self) -> CacheUse | None:
        """What the execution cache did for this run (``reports["cache"]``): key, replayed, why it re-ran."""
        use: CacheUse | None = self.reports.get("cache")
        return use

    @property
    def cache_key(self) -> str | None:
        """The execution cache key this run is stored under or replayed from, if any."""
        use: CacheUse | None = self.reports.get("cache")
        return use.key if use is not None else None

    @property
    def peak_memory(self) -> int | None:
        """The largest of the cells' peaks, in bytes (None: not measured)."""
        peaks = [cell.peak_memory for cell in self.cells if cell.peak_memory is not None]
        return max(peaks) if peaks else None

    @property
    def cpu_time(self) -> float | None:
        """The cells' CPU seconds, summed (None: not measured)."""
        times = [cell.cpu_time for cell in self.cells if cell.cpu_time is not None]
        return round(sum(times), 3) if times else None

    @property
    def redactions(self) -> int | None:
        """How many secret values were replaced in what the kernel sent (``reports["redactions"]``; None: no secrets)."""
        count: int | None = self.reports.get(REDACTIONS)
        return count

    @property
    def extracted_files(self) -> list[Path | str]:
        return list(self.images.written) if self.images is not None else []

    @property
    def image_warnings(self) -> list[str]:
        return list(self.images.warnings) if self.images is not None else []

    @property
    def broken_images(self) -> int:
        return self.images.broken if self.images is not None else 0

    def with_report(self, name: str, report: Any) -> ExecutionResult:
        """A copy carrying *report* under *name* in ``reports`` (for post-processing stages)."""
        return replace(self, reports={**self.reports, name: report})

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
        elif self.status is RunStatus.INCOMPLETE:
            error = IncompleteOutputError(message, self.failed_cell)
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
        if self.peak_memory is not None:
            record["peak_memory"] = self.peak_memory
        if self.cpu_time is not None:
            record["cpu_time"] = self.cpu_time
        return record
