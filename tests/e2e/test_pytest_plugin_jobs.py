"""`pytest --nbrun --nbrun-jobs N`: notebooks run concurrently in one pytest process, reported in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.load import within
from tests.support.plugin_projects import ctrl_c_pytest, project, run_pytest, write_notebook
from tests.support.procs import kernel_pids, wait_gone

pytestmark = pytest.mark.kernel

WAIT_FOR_B = (
    "import pathlib, time\n"
    "deadline = time.monotonic() + 60\n"
    "while not pathlib.Path('b_started').exists():\n"
    "    assert time.monotonic() < deadline, 'b never ran beside a'\n"
    "    time.sleep(0.05)"
)
MARK_RAN = "import pathlib, uuid\npathlib.Path('ran', {name!r} + '-' + uuid.uuid4().hex).touch()"


def test_two_jobs_run_side_by_side_and_report_in_collection_order(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    write_notebook(root / "a_waits_for_b.ipynb", WAIT_FOR_B)  # passes only if b runs while a runs
    write_notebook(root / "b_starts.ipynb", "import pathlib\npathlib.Path('b_started').touch()")
    write_notebook(root / "c_fails.ipynb", "x = 1", "raise ValueError('c is broken')")
    write_notebook(root / "d_ok.ipynb", "print('d ran')")
    write_notebook(root / "e_skipped.ipynb", "open('e_ran', 'w').close()", metadata={"nbrun": {"markers": ["skip"]}})
    skipif = {"name": "skipif", "condition": True, "reason": "not here"}
    write_notebook(root / "f_skipif.ipynb", "open('f_ran', 'w').close()", metadata={"nbrun": {"markers": [skipif]}})
    write_notebook(root / "g_ok.ipynb", "print('g ran')")
    before = kernel_pids()
    run = run_pytest(root, "--nbrun", "--nbrun-jobs", "2", "-v", timeout=within(180))
    assert run.proc.returncode == 1, run.output
    outcomes = {name: case.outcome for name, case in run.cases.items()}
    assert outcomes == {
        "a_waits_for_b.ipynb": "passed",
        "b_starts.ipynb": "passed",
        "c_fails.ipynb": "failed",
        "d_ok.ipynb": "passed",
        "e_skipped.ipynb": "skipped",
        "f_skipif.ipynb": "skipped",
        "g_ok.ipynb": "passed",
    }
    assert list(run.cases) == sorted(run.cases)  # reported in collection order
    verdicts = re.findall(r"^(\S+\.ipynb)::\S+ (?:PASSED|FAILED|SKIPPED)", run.proc.stdout, re.MULTILINE)
    assert verdicts == sorted(run.cases), run.proc.stdout
    assert "ValueError: c is broken" in run.cases["c_fails.ipynb"].text
    assert "d ran" in run.cases["d_ok.ipynb"].stdout  # captured output stays with its own test
    assert "g ran" in run.cases["g_ok.ipynb"].stdout and "d ran" not in run.cases["g_ok.ipynb"].stdout
    assert not (root / "e_ran").exists() and not (root / "f_ran").exists()  # a skipped notebook never ran ahead
    assert not wait_gone(kernel_pids() - before)


def test_one_job_still_runs_one_notebook_at_a_time(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    write_notebook(root / "a_waits_for_b.ipynb", WAIT_FOR_B.replace("60", "3"))
    write_notebook(root / "b_starts.ipynb", "import pathlib\npathlib.Path('b_started').touch()")
    run = run_pytest(root, "--nbrun", timeout=within(120))
    assert run.cases["a_waits_for_b.ipynb"].outcome == "failed", run.output
    assert "b never ran beside a" in run.cases["a_waits_for_b.ipynb"].text


def test_exitfirst_stops_and_leaves_no_kernel(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    (root / "ran").mkdir()
    write_notebook(root / "a_ok.ipynb", MARK_RAN.format(name="a"))
    write_notebook(root / "b_fails.ipynb", MARK_RAN.format(name="b"), "1 / 0")
    for name in "cdef":
        write_notebook(root / f"{name}_slow.ipynb", MARK_RAN.format(name=name), "import time\ntime.sleep(30)")
    before = kernel_pids()
    run = run_pytest(root, "--nbrun", "--nbrun-jobs", "2", "-x", timeout=within(120))
    assert run.proc.returncode == 1, run.output
    assert "1 failed, 1 passed" in run.proc.stdout, run.proc.stdout
    assert set(run.cases) == {"a_ok.ipynb", "b_fails.ipynb"}
    ran = {path.name.split("-")[0] for path in (root / "ran").iterdir()}
    assert ran <= {"a", "b", "c", "d"}, ran  # at most the next notebooks had started
    assert not wait_gone(kernel_pids() - before, timeout=10)


def test_xdist_workers_each_run_their_own_share(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    root = project(tmp_path / "proj")
    (root / "ran").mkdir()
    names = [f"nb{number}" for number in range(8)]
    for name in names:
        write_notebook(root / f"{name}.ipynb", MARK_RAN.format(name=name))
    run = run_pytest(root, "--nbrun", "--nbrun-jobs", "2", "-n", "2", timeout=within(180))
    assert run.proc.returncode == 0, run.output
    assert "8 passed" in run.proc.stdout
    ran = sorted(path.name.split("-")[0] for path in (root / "ran").iterdir())
    assert ran == names  # every notebook ran exactly once: no worker ran another's


def test_ctrl_c_with_notebooks_running_ahead_leaves_no_kernel(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    for name in ("a", "b"):
        write_notebook(
            root / f"{name}_sleeps.ipynb",
            f"import pathlib\npathlib.Path('{name}_started').touch()",
            "__import__('time').sleep(60)",
        )
    before = kernel_pids()
    started = [root / "a_started", root / "b_started"]  # both running: b ran ahead of its turn
    returncode, output = ctrl_c_pytest(root, "--nbrun", "--nbrun-jobs", "2", once_exist=started)
    assert returncode == 2, output
    assert "KeyboardInterrupt" in output
    assert not wait_gone(kernel_pids() - before, timeout=10)


def test_bad_jobs_value_is_a_usage_error(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    write_notebook(root / "a.ipynb", "1")
    run = run_pytest(root, "--nbrun", "--nbrun-jobs", "zero")
    assert run.proc.returncode == 4, run.output
    assert "--nbrun-jobs wants a number of notebooks (1 or more) or auto, got 'zero'" in run.output
