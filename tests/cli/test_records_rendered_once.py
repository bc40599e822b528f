"""Cell records are rendered once: the JSON record, events and notices read the CellRecord.

Before, the events stream and the truncation notice read ``cell.metadata.nbrun``
back out of the notebook because ``CellRecord.to_json`` dropped the kernel's
exit and the truncation; a cell whose metadata was missing lost both.
"""

from __future__ import annotations

import json
from pathlib import Path

from nbformat.v4 import new_code_cell, new_notebook

from nbrun.cli.output.event_stream import EventStream, NotebookEvents
from nbrun.cli.output.notices import truncation_warning
from nbrun.result import CellRecord, ExecutionResult, KernelDeath, Truncation
from nbrun.status import CellStatus, RunStatus

DIED = CellRecord(
    0,
    CellStatus.KERNEL_DIED,
    duration=1.5,
    execution_count=1,
    actions=("restarted",),
    lost_messages=(7,),
    kernel_death=KernelDeath(-9, "SIGKILL", "killed by SIGKILL (out of memory?)", "tail"),
    truncation=Truncation(dropped_bytes=4096, dropped_messages=3),
)


def test_the_json_record_of_a_cell_round_trips() -> None:
    data = DIED.to_json()
    assert data["kernel_exit"]["reason"] == "killed by SIGKILL (out of memory?)"
    assert data["truncated"] == {"dropped_bytes": 4096, "dropped_messages": 3}
    assert CellRecord.from_json(json.loads(json.dumps(data))) == DIED


def test_events_come_from_the_record_not_the_notebook_metadata(tmp_path: Path) -> None:
    stream = EventStream(str(tmp_path / "events.jsonl"))
    observer = NotebookEvents(stream, "a.ipynb")
    observer.cell_started(0, new_code_cell("x"))  # a cell without any nbrun metadata
    observer.cell_finished(DIED)
    stream.close()
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    by_name = {event["event"]: event for event in events}
    assert by_name["output-truncated"]["dropped_bytes"] == 4096
    assert by_name["kernel-died"]["reason"] == "killed by SIGKILL (out of memory?)"


def test_the_truncation_notice_comes_from_the_record() -> None:
    result = ExecutionResult(
        notebook=new_notebook(cells=[new_code_cell("x")]),
        status=RunStatus.OK,
        cells=(DIED,),
        kernel_name="python3",
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:02Z",
        duration=2.0,
    )
    notice = truncation_warning(result)
    assert notice is not None and "4,096 bytes dropped" in notice and "In [1]" in notice
