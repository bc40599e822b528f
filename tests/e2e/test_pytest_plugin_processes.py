"""`pytest --nbrun` processes: xdist workers with one warm template each; no kernel outlives the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.plugin_projects import ctrl_c_pytest, project, run_pytest, write_notebook
from tests.support.procs import kernel_pids, wait_gone

pytestmark = pytest.mark.kernel

REPORT_KERNEL = (
    "import os, pathlib\n"
    "forked = '_forkserver' in open('/proc/self/cmdline').read()\n"
    "pathlib.Path('seen', str(os.getpid())).write_text(f\"{os.environ['JPY_PARENT_PID']} {forked}\")"
)


def test_xdist_twenty_notebooks_fork_from_one_template_per_worker(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    root = project(tmp_path / "proj")
    (root / "seen").mkdir()
    for number in range(20):
        write_notebook(root / f"nb{number:02}.ipynb", REPORT_KERNEL, "assert 1 + 1 == 2")
    before = kernel_pids()
    run = run_pytest(root, "--nbrun", "-n", "2", timeout=240)
    assert run.proc.returncode == 0, run.output
    assert "20 passed" in run.proc.stdout
    reports = [path.read_text().split() for path in (root / "seen").iterdir()]
    assert len(reports) == 20
    assert all(forked == "True" for _, forked in reports)  # every kernel was a fork of a warm template
    assert 1 <= len({parent for parent, _ in reports}) <= 2  # ...and there is one template per worker
    assert not wait_gone(kernel_pids() - before)


def _interruptible_project(root: Path) -> Path:
    project(root)
    write_notebook(
        root / "a_sleeps.ipynb",
        "import pathlib\npathlib.Path('started').write_text('1')",
        "import time\ntime.sleep(60)",
    )
    write_notebook(root / "b_ok.ipynb", "print('b ran')")
    return root


def test_ctrl_c_leaves_no_kernel(tmp_path: Path) -> None:
    root = _interruptible_project(tmp_path / "proj")
    before = kernel_pids()

    def kernel_running() -> None:
        assert kernel_pids() - before, "the notebook's kernel should be running"

    returncode, output = ctrl_c_pytest(
        root, "--nbrun", "a_sleeps.ipynb", once_exist=[root / "started"], check_running=kernel_running
    )
    assert returncode == 2, output  # pytest's "interrupted"
    assert "KeyboardInterrupt" in output
    assert not wait_gone(kernel_pids() - before, timeout=10)


def test_pytest_timeout_stops_the_kernel_and_the_next_notebook_runs(tmp_path: Path) -> None:
    pytest.importorskip("pytest_timeout")
    root = _interruptible_project(tmp_path / "proj")
    before = kernel_pids()
    run = run_pytest(root, "--nbrun", "--timeout=8", "--timeout-method=signal")
    assert run.cases["a_sleeps.ipynb"].outcome == "failed"
    assert "Timeout" in run.cases["a_sleeps.ipynb"].message
    assert run.cases["b_ok.ipynb"].outcome == "passed", run.output
    assert "b ran" in run.cases["b_ok.ipynb"].stdout
    assert not wait_gone(kernel_pids() - before, timeout=10)
