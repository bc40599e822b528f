"""JSON record, JUnit and summary of a batch read the status enum (fabricated outcomes, no kernel)."""

from __future__ import annotations

from pathlib import Path

from nbformat.v4 import new_code_cell, new_notebook, new_output

from nbrun.cli.output.run_records import junit_xml, outcome_exit_code, run_record
from nbrun.cli.output.summary import summary_table
from nbrun.errors import KernelStartError, NotebookReadError
from nbrun.options import ExecuteOptions
from nbrun.result import CellRecord, CellStatus, ExecutionResult, RunStatus
from nbrun.runners.batch import BatchJob, BatchOutcome


def job(name: str) -> BatchJob:
    return BatchJob(Path(name), Path(name), ExecuteOptions())


def failed_run() -> ExecutionResult:
    error = new_output("error", ename="ValueError", evalue="bad", traceback=["\x1b[31mValueError\x1b[0m: bad"])
    nb = new_notebook(cells=[new_code_cell("raise ValueError('bad')", outputs=[error])])
    return ExecutionResult(
        nb,
        RunStatus.ERROR,
        (CellRecord(0, CellStatus.ERROR, 0.1, 1, "ValueError", "bad"),),
        "python3",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:01Z",
        1.0,
        failed_cell=0,
        ename="ValueError",
        evalue="bad",
        message="cell 0 raised ValueError: bad",
    )


OUTCOMES = [
    BatchOutcome(job("raises.ipynb"), result=failed_run(), duration=1.0),
    BatchOutcome(job("broken.ipynb"), error=NotebookReadError("broken.ipynb", "not JSON")),
    BatchOutcome(job("nokernel.ipynb"), error=KernelStartError("no kernel answered")),
    BatchOutcome(job("later.ipynb"), skipped_reason="not run: an earlier notebook failed (--fail-fast)"),
]


def test_statuses_and_exit_codes_come_from_the_enum() -> None:
    assert [o.status for o in OUTCOMES] == [
        RunStatus.ERROR,
        RunStatus.INVALID,
        RunStatus.KERNEL_FAILED,
        RunStatus.SKIPPED,
    ]
    assert [outcome_exit_code(o) for o in OUTCOMES] == [1, 5, 4, 0]


def test_json_record_uses_the_status_values() -> None:
    record = run_record(OUTCOMES, "2026-01-01T00:00:00Z", 2.0, 1)
    assert record["totals"] == {"error": 1, "invalid": 1, "kernel-failed": 1, "skipped": 1}
    first = record["notebooks"][0]
    assert first["status"] == "error" and first["exit_code"] == 1
    assert first["error"] == {"cell": 0, "ename": "ValueError", "evalue": "bad"}


def test_junit_kinds_follow_the_enum() -> None:
    xml = junit_xml(OUTCOMES, "2026-01-01T00:00:00Z", 2.0)
    assert 'failures="1"' in xml and 'errors="2"' in xml and 'skipped="1"' in xml
    assert "\x1b[" not in xml  # ANSI stripped from the traceback


def test_summary_uses_the_labels() -> None:
    table = summary_table(OUTCOMES, 2.0)
    assert "no kernel" in table and "invalid" in table
    assert table.splitlines()[-1] == "4 notebooks: 1 error, 1 invalid, 1 no kernel, 1 skipped in 2.00 s"
