"""The status vocabulary, the cell record's metadata writer and the stdin address (no kernel)."""

from __future__ import annotations

import dataclasses

import pytest
from jupyter_client import BlockingKernelClient

from nbrun.errors import KernelStartError, NotebookReadError, NotebookWriteError
from nbrun.execution.cell_record import cell_metadata
from nbrun.kernel.stdin_channel import stdin_url
from nbrun.result import CellRecord, CellStatus, KernelDeath, Truncation
from nbrun.status import RunStatus


@pytest.mark.parametrize(
    ("status", "code", "label", "junit"),
    [
        (RunStatus.OK, 0, "ok", "passed"),
        (RunStatus.ERROR, 1, "error", "failure"),
        (RunStatus.TIMEOUT, 3, "timeout", "failure"),
        (RunStatus.KERNEL_DIED, 4, "kernel died", "error"),
        (RunStatus.INTERRUPTED, 130, "interrupted", "skipped"),
        (RunStatus.SKIPPED, 0, "skipped", "skipped"),
        (RunStatus.INVALID, 5, "invalid", "error"),
        (RunStatus.KERNEL_FAILED, 4, "no kernel", "error"),
        (RunStatus.IO_ERROR, 5, "I/O error", "error"),
    ],
)
def test_each_status_carries_its_exit_code_label_and_junit_kind(
    status: RunStatus, code: int, label: str, junit: str
) -> None:
    assert (status.exit_code, status.label, status.junit) == (code, label, junit)
    assert RunStatus(status.value) is status and status == status.value


def test_sigterm_interruption_exits_143() -> None:
    assert RunStatus.INTERRUPTED.exit_code_for("SIGTERM") == 143
    assert RunStatus.INTERRUPTED.exit_code_for("SIGINT") == 130


def test_errors_map_to_statuses() -> None:
    assert NotebookReadError("a.ipynb", "bad").status is RunStatus.INVALID
    assert NotebookWriteError("a.ipynb", "full").status is RunStatus.IO_ERROR
    assert KernelStartError("no").status is RunStatus.KERNEL_FAILED


def test_each_cell_status_has_one_name() -> None:
    """The 0.1 aliases (COMPLETED, TIMED_OUT, cell_runner.Outcome) are gone: one name per meaning."""
    import nbrun.execution.cell_runner as cell_runner

    assert [member.name for member in CellStatus] == list(CellStatus.__members__)
    assert not hasattr(cell_runner, "Outcome")


def test_cell_metadata_is_rendered_from_the_record_alone() -> None:
    assert cell_metadata(CellRecord(0, CellStatus.OK, 0.1, 1)) is None
    assert cell_metadata(CellRecord(0, CellStatus.EMPTY)) is None
    assert cell_metadata(CellRecord(0, CellStatus.INTERRUPTED, started=False)) == {"status": "not-run"}
    record = CellRecord(
        3,
        CellStatus.TIMEOUT,
        2.0,
        4,
        timed_out_after=1.0,
        timeout_limit="cell timeout",
        actions=("interrupted", "killed"),
        kernel_death=KernelDeath(-9, "SIGKILL", "killed by SIGKILL", "tail"),
        truncation=Truncation(10, 2),
        stdin_exhausted=True,
        kernel_restarted="fresh kernel",
    )
    assert cell_metadata(record) == {
        "status": "timeout",
        "timeout": {"after_seconds": 1.0, "limit": "cell timeout"},
        "kernel_exit": {"returncode": -9, "signal": "SIGKILL", "reason": "killed by SIGKILL", "stderr_tail": "tail"},
        "truncated": {"dropped_bytes": 10, "dropped_messages": 2},
        "stdin_exhausted": True,
        "actions": ["interrupted", "killed"],
        "kernel_restarted": "fresh kernel",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.status = CellStatus.OK  # type: ignore[misc]


@pytest.mark.parametrize(
    ("transport", "ip", "url"),
    [("tcp", "127.0.0.1", "tcp://127.0.0.1:5555"), ("ipc", "/tmp/kernel", "ipc:///tmp/kernel-5555")],
)
def test_stdin_url_comes_from_the_public_connection_info(transport: str, ip: str, url: str) -> None:
    client = BlockingKernelClient(ip=ip, stdin_port=5555, transport=transport)
    assert stdin_url(client.get_connection_info()) == url
