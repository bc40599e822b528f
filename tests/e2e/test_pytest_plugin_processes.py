"""`pytest --nbrun` processes: xdist workers with one warm template each; no kernel outlives the session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.load import within
from tests.support.plugin_projects import project, run_pytest, write_notebook
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


def _default_sigint() -> None:
    """Python ignores Ctrl-C if it starts with SIGINT ignored (as background jobs of a shell do)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_leaves_no_kernel(tmp_path: Path) -> None:
    root = _interruptible_project(tmp_path / "proj")
    before = kernel_pids()
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbrun",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            "-p",
            "no:nbmake",
            "a_sleeps.ipynb",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + within(90)
        while not (root / "started").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert (root / "started").exists(), proc.communicate(timeout=30)[0]
        assert kernel_pids() - before, "the notebook's kernel should be running"
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        try:
            output, _ = proc.communicate(timeout=45)
        except subprocess.TimeoutExpired:  # seen once in ~20 runs of the whole suite: a user presses Ctrl-C again
            os.killpg(proc.pid, signal.SIGINT)
            output, _ = proc.communicate(timeout=45)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, output  # pytest's "interrupted"
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
