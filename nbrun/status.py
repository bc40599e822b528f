"""The status vocabulary: how a notebook ended and how one cell ended.

Each :class:`RunStatus` member carries everything a front end needs to
report it: the process exit code, the label of the summary table and the
JUnit kind (``passed``, ``failure``, ``error`` or ``skipped``). Adding an
outcome is one line here, e.g. ``MISMATCH = "mismatch", 6, "mismatch", "failure"``;
the summary, the JSON record, JUnit and the exit code follow it.
"""

from __future__ import annotations

import enum
import signal
from typing import Literal

JUnitKind = Literal["passed", "failure", "error", "skipped"]
TERMINATED_BY = ("SIGTERM", "SIGHUP")  # stop reasons that exit 143; a hang-up ends a run as SIGTERM does


class RunStatus(str, enum.Enum):
    """How one notebook ended (value, exit code, summary label, JUnit kind).

    The first five (and ``OUT_OF_MEMORY``) come from a run (``ExecutionResult.status``); the others
    describe a batch job that raised before or after its run (each error
    class in :mod:`nbrun.errors` names its member), or never ran.
    """

    exit_code: int
    label: str
    junit: JUnitKind

    def __new__(cls, value: str, exit_code: int, label: str, junit: JUnitKind) -> RunStatus:
        member = str.__new__(cls, value)
        member._value_ = value
        member.exit_code = exit_code
        member.label = label
        member.junit = junit
        return member

    OK = "ok", 0, "ok", "passed"
    ERROR = "error", 1, "error", "failure"
    TIMEOUT = "timeout", 3, "timeout", "failure"
    KERNEL_DIED = "kernel-died", 4, "kernel died", "error"
    INCOMPLETE = "incomplete", 4, "incomplete", "error"  # IOPub messages were lost: outputs untrustworthy
    INTERRUPTED = "interrupted", 128 + signal.SIGINT, "interrupted", "skipped"
    SKIPPED = "skipped", 0, "skipped", "skipped"
    INVALID = "invalid", 5, "invalid", "error"
    USAGE_ERROR = "usage-error", 2, "usage error", "error"  # parameters refused, an extra or a URL's package missing
    KERNEL_FAILED = "kernel-failed", 4, "no kernel", "error"
    IO_ERROR = "io-error", 5, "I/O error", "error"
    MISMATCH = "mismatch", 6, "mismatch", "failure"  # nbrun check: the run went through, outputs differ
    EXPECTATION_FAILED = "expectation-failed", 7, "expectation failed", "failure"  # --expect on recorded values
    ENVIRONMENT_FAILED = "environment-failed", 2, "environment failed", "error"  # the notebook's own environment
    OUT_OF_MEMORY = (
        "out-of-memory",
        8,
        "out of memory",
        "error",
    )  # over --max-memory, or the OOM killer ended the kernel

    def __str__(self) -> str:
        """``str(status)`` is ``ok``, the word the records use (not ``RunStatus.OK``)."""
        return str(self.value)

    @classmethod
    def parse(cls, value: str) -> RunStatus:
        """The member whose value is *value* (ValueError for an unknown one)."""
        member = cls._value2member_map_.get(value)
        if not isinstance(member, RunStatus):
            raise ValueError(f"{value!r} is not a RunStatus")
        return member

    def exit_code_for(self, interrupted_by: str | None = None) -> int:
        """The exit code; an interrupted run says which signal stopped it (130, or 143 for SIGTERM and SIGHUP)."""
        if self is RunStatus.INTERRUPTED and interrupted_by in TERMINATED_BY:
            return 128 + signal.SIGTERM
        return self.exit_code


class CellStatus(str, enum.Enum):
    """What happened to one code cell.

    The cell runner reports how waiting ended with the first four (``OK``:
    the reply arrived; the cell record then tells ``OK`` from ``ERROR``).
    """

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel-died"
    INTERRUPTED = "interrupted"
    INCOMPLETE = "incomplete"  # the cell's IOPub stream is known to be incomplete
    OUT_OF_MEMORY = "out-of-memory"  # stopped over the memory limit, or its kernel ended by the OOM killer
    SKIPPED = "skipped"  # tagged skip-execution
    EMPTY = "empty"  # no code to send
    NOT_RUN = "not-run"  # the run stopped before this cell

    def __str__(self) -> str:
        """``str(status)`` is ``ok``, the word the records use (not ``CellStatus.OK``)."""
        return str(self.value)
