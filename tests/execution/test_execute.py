"""Execution semantics against real ipykernel kernels."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import nbrun
from nbrun import CellStatus, ExecuteOptions, ExecutionObserver, RunStatus
from tests.support.notebooks import make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]


def run(*sources, **options):
    nb = make_notebook(*sources)
    return nb, nbrun.execute(nb, ExecuteOptions(**options))


def test_streams_results_and_counts_come_from_the_kernel() -> None:
    nb, result = run("print('hello')\nprint('world')", "1 + 1", "x = 3")
    assert result.status is RunStatus.OK
    first, second, third = nb.cells
    assert first.outputs == [{"output_type": "stream", "name": "stdout", "text": "hello\nworld\n"}]
    assert second.outputs[0].output_type == "execute_result"
    assert second.outputs[0].data["text/plain"] == "2"
    assert [c.execution_count for c in nb.cells] == [1, 2, 3]
    assert third.outputs == []


def test_timing_metadata_and_language_info() -> None:
    nb, _ = run("x = 1")
    timing = nb.cells[0].metadata.execution
    assert set(timing) == {"iopub.status.busy", "iopub.execute_input", "shell.execute_reply", "iopub.status.idle"}
    assert timing["iopub.status.busy"] <= timing["iopub.status.idle"]
    assert nb.metadata.language_info.name == "python"
    assert nb.metadata.nbrun["status"] == "ok"


def test_carriage_returns_and_many_stream_messages_merge_into_one_output() -> None:
    nb, _ = run(
        "import sys, time\nfor i in range(5):\n    sys.stdout.write(f'\\r{i*25}%')\n    sys.stdout.flush()\n    time.sleep(0.05)\nprint()",
        "for i in range(3000):\n    print(i)",
    )
    assert nb.cells[0].outputs == [{"output_type": "stream", "name": "stdout", "text": "100%\n"}]
    assert len(nb.cells[1].outputs) == 1
    assert nb.cells[1].outputs[0].text.count("\n") == 3000


def test_display_updates_reach_earlier_cells() -> None:
    nb, _ = run(
        "from IPython.display import display\nprint('a')\nh = display('v1', display_id=True)\nprint('b')\nprint('c')",
        "h.update('v2')",
    )
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "display_data", "stream"]
    assert outputs[1].data["text/plain"] == "'v2'"
    assert nb.cells[1].outputs == []


def test_clear_output_wait_keeps_last_frame() -> None:
    nb, _ = run(
        "from IPython.display import clear_output, display\nfor i in range(4):\n    clear_output(wait=True)\n    display(f'frame {i}')\nclear_output(wait=True)"
    )
    assert [o.data["text/plain"] for o in nb.cells[0].outputs] == ["'frame 3'"]


def test_widget_state_saved() -> None:
    pytest.importorskip("ipywidgets")
    nb, _ = run("import ipywidgets as w\ns = w.IntSlider(value=3)\ns", "s.value = 7")
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    sliders = [m for m in state.values() if m["model_name"] == "IntSliderModel"]
    assert sliders and sliders[0]["state"]["value"] == 7


def test_widget_state_counts_against_the_output_limit() -> None:
    pytest.importorskip("ipywidgets")
    code = "import ipywidgets as w\nt = w.Textarea(value='x' * 300_000)\nt"
    kept, _ = run(code, max_output_bytes=1_000_000)
    assert "widgets" in kept.metadata and "widget_state_dropped" not in kept.metadata.nbrun
    warnings: list[str] = []

    class Warnings(ExecutionObserver):
        def warning(self, text: str) -> None:
            warnings.append(text)

    dropped = make_notebook(code)
    result = nbrun.execute(dropped, ExecuteOptions(max_output_bytes=100_000), observer=Warnings())
    assert "widgets" not in dropped.metadata
    size = dropped.metadata.nbrun["widget_state_dropped"]
    assert size > 300_000
    assert result.status is RunStatus.OK
    expected = f"widget state of {size} bytes exceeds the output limit of 100000 bytes; not saved in metadata.widgets"
    assert warnings == [expected]


def test_input_is_refused_with_a_clear_error_not_a_hang() -> None:
    start = time.monotonic()
    nb, result = run("input('name? ')")
    assert time.monotonic() - start < 10
    assert result.status is RunStatus.ERROR
    assert nb.cells[0].outputs[-1].ename == "StdinNotImplementedError"


def test_stdin_lines_answer_input_and_exhaustion_is_an_error() -> None:
    nb, result = run(
        "a = input('first? ')\nb = input('second? ')\nprint(a, b)",
        "input('third? ')",
        stdin_lines=("alpha", "beta"),
        interrupt_grace=5,
    )
    assert "alpha beta" in nb.cells[0].outputs[-1].text
    assert result.status is RunStatus.ERROR and result.failed_cell == 1
    assert nb.cells[1].metadata.nbrun["stdin_exhausted"] is True
    assert "stdin lines ran out" in result.message


def test_empty_cells_are_not_sent() -> None:
    nb, result = run("x = 1", "   \n  ", "x")
    assert nb.cells[1].execution_count is None
    assert nb.cells[2].execution_count == 2
    assert [c.status for c in result.cells] == [CellStatus.OK, CellStatus.EMPTY, CellStatus.OK]


def test_skip_execution_clears_stale_outputs_and_raises_exception_continues() -> None:
    nb = make_notebook(
        ("raise ValueError('expected')", ["raises-exception"]),
        ("print('skipped')", ["skip-execution"]),
        "print('after')",
    )
    nb.cells[1].outputs = [{"output_type": "stream", "name": "stdout", "text": "stale\n"}]
    nb.cells[1].execution_count = 99
    result = nbrun.execute(nb, ExecuteOptions())
    assert result.status is RunStatus.OK
    assert nb.cells[0].outputs[0].ename == "ValueError"
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    assert nb.cells[1].metadata.nbrun == {"status": "skipped"}
    assert nb.cells[2].outputs[0].text == "after\n"


def test_first_error_stops_the_run_and_records_it() -> None:
    nb, result = run("print('one')", "1/0", "print('never')")
    assert result.status is RunStatus.ERROR
    assert result.failed_cell == 1 and result.ename == "ZeroDivisionError"
    assert nb.cells[2].outputs == [] and nb.cells[2].metadata.nbrun == {"status": "not-run"}
    record = nb.metadata.nbrun
    assert record["status"] == "error" and record["failed_cell"] == 1
    assert record["error"] == {"ename": "ZeroDivisionError", "evalue": "division by zero"}
    assert {"start", "end", "duration"} <= set(record)
    with pytest.raises(nbrun.CellExecutionError) as caught:
        result.raise_for_status()
    assert caught.value.cell_index == 1 and caught.value.ename == "ZeroDivisionError"


def test_allow_errors_runs_every_cell() -> None:
    nb, result = run("1/0", "print('ran')", "raise KeyError('k')", allow_errors=True)
    assert result.status is RunStatus.OK
    assert nb.cells[1].outputs[0].text == "ran\n"
    assert nb.metadata.nbrun["cells_with_errors"] == [0, 2]


def test_system_exit_zero_stops_cleanly() -> None:
    nb, result = run("import sys\nsys.exit(0)", "print('not run')")
    assert result.status is RunStatus.OK
    assert nb.cells[1].metadata.nbrun == {"status": "not-run"}


def test_cell_timeout_interrupts_and_stops() -> None:
    start = time.monotonic()
    nb, result = run("import time\nprint('start')\ntime.sleep(30)", "print('next')", timeout=1)
    assert time.monotonic() - start < 10
    assert result.status is RunStatus.TIMEOUT and result.failed_cell == 0
    kinds = [o.output_type for o in nb.cells[0].outputs]
    assert kinds == ["stream", "error"] and nb.cells[0].outputs[1].ename == "KeyboardInterrupt"
    meta = nb.cells[0].metadata.nbrun
    assert meta["timeout"]["after_seconds"] >= 1 and meta["actions"] == ["interrupted"]
    assert "timed out after" in result.message


def test_cell_timeout_with_allow_errors_continues() -> None:
    nb, result = run("import time\ntime.sleep(30)", "print('next')", timeout=1, allow_errors=True)
    assert result.status is RunStatus.OK
    assert nb.cells[1].outputs[0].text == "next\n"
    assert result.cells[0].status is CellStatus.TIMEOUT


def test_kernel_runs_in_given_cwd(tmp_path: Path) -> None:
    nb, _ = run("import os\nprint(os.getcwd())", cwd=tmp_path)
    assert nb.cells[0].outputs[0].text.strip() == str(tmp_path)


def test_history_is_in_memory() -> None:
    nb, _ = run("print(get_ipython().history_manager.hist_file)")
    assert nb.cells[0].outputs[0].text.strip() == ":memory:"


def test_unknown_kernel_lists_installed_ones() -> None:
    nb = make_notebook("1")
    with pytest.raises(nbrun.NoSuchKernelError) as caught:
        nbrun.execute(nb, ExecuteOptions(kernel_name="no-such-kernel"))
    assert "python3" in str(caught.value) and "no-such-kernel" in str(caught.value)


def test_kernel_from_notebook_metadata() -> None:
    nb = make_notebook("1")
    nb.metadata.kernelspec.name = "not-installed-kernel"
    with pytest.raises(nbrun.NoSuchKernelError):
        nbrun.execute(nb, ExecuteOptions())
    nb.metadata.pop("kernelspec")
    assert nbrun.execute(nb, ExecuteOptions()).kernel_name == "python3"


def test_kernel_stderr_is_captured_not_leaked(capfd: pytest.CaptureFixture[str]) -> None:
    nb, result = run("import os\nos.write(2, b'low-level stderr from the kernel\\n')")
    captured = capfd.readouterr()
    assert "low-level stderr" not in captured.err
    assert "low-level stderr" in result.kernel_output or any(
        "low-level stderr" in o.get("text", "") for o in nb.cells[0].outputs
    )


def test_execute_works_inside_a_running_event_loop() -> None:
    import asyncio

    async def inside() -> RunStatus:
        return nbrun.execute(make_notebook("1"), ExecuteOptions()).status

    assert asyncio.run(inside()) is RunStatus.OK


def test_result_json_records() -> None:
    _, result = run("x = 1", "1/0")
    records = [r.to_json() for r in result.cells]
    json.dumps(records)
    assert records[1]["status"] == "error" and records[1]["ename"] == "ZeroDivisionError"
