"""A signal sent to nbrun's whole process group (``timeout``, ``kill -- -PGID``, a CI cancel) and SIGHUP.

Each running notebook's long cell prints a marker line and creates a file,
so the test knows the cell is inside its sleep; the signal then goes to the
process group of the ``nbrun run`` subprocess (started in its own session).
The run must end as a signal to nbrun alone does: running notebooks
``interrupted`` with their partial notebooks written, the JSON record
written, nothing resubmitted, no kernel or Dask worker process left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.support.notebooks import make_notebook
from tests.support.procs import kernel_pids, session_pids, wait_gone

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]

NBRUN = [sys.executable, "-m", "nbrun.cli", "run"]
PY_TRACEBACK = "Traceback (most recent call last):"


def long_notebook(path: Path, started: Path) -> Path:
    cell = f"import time\nprint('MARKER {path.stem}', flush=True)\nopen({str(started)!r}, 'w').close()\ntime.sleep(60)"
    nbformat.write(make_notebook("x = 1", cell, "print('never')"), path)
    return path


def dask_process_pids() -> set[int]:
    """Live spawned multiprocessing children (Dask worker processes) of this test session."""
    return session_pids(lambda cmdline: any(b"spawn_main" in part for part in cmdline))


def signal_group_when_started(
    args: list[str], markers: list[Path], signum: int, timeout: float = 90
) -> tuple[subprocess.CompletedProcess[str], set[int]]:
    """Run nbrun, wait until every marker file exists, signal its process group; return the run and its kernels."""
    proc = subprocess.Popen(
        [*NBRUN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + timeout
        while not all(marker.exists() for marker in markers):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        kernels = kernel_pids()
        assert len(kernels) >= len(markers)
        os.killpg(proc.pid, signum)
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), kernels


def assert_partial(path: Path, name: str) -> None:
    """*path* is the partial notebook: cell 0 ran, cell 1 (the marker, then the sleep) interrupted, cell 2 not run."""
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata["nbrun"]
    assert meta["status"] == "interrupted" and meta["interrupted_by"] == name and meta["failed_cell"] == 1
    assert nb.cells[0].execution_count == 1 and "status" not in nb.cells[0].metadata.get("nbrun", {})  # ran ok
    running = nb.cells[1]
    assert running.metadata["nbrun"]["status"] == "interrupted"
    assert f"MARKER {path.stem}" in "".join(o.get("text", "") for o in running.outputs)
    assert nb.cells[2].metadata["nbrun"] == {"status": "not-run"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_group_signal_with_local_dask_cluster_interrupts_and_writes_partials(tmp_path: Path, signum: int) -> None:
    pytest.importorskip("distributed")
    name = signal.Signals(signum).name
    before = dask_process_pids()
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    markers = [tmp_path / f"{stem}.started" for stem in ("a", "b")]
    for marker in markers:
        long_notebook(folder / f"{marker.stem}.ipynb", marker)
    report = tmp_path / "run.json"
    run, kernels = signal_group_when_started(
        [str(folder), "--dask", "local:2", "--output-dir", str(out), "--json", str(report)], markers, signum
    )
    assert run.returncode == 143, run.stderr
    assert PY_TRACEBACK not in run.stderr, run.stderr
    assert "worker" not in run.stderr.lower() and "skipped" not in run.stderr, run.stderr  # nothing lost or resubmitted
    assert "resource_tracker" not in run.stderr, run.stderr  # multiprocessing's tracker survived the signal too
    record = json.loads(report.read_text())
    assert record["exit_code"] == 143
    assert {Path(n["input"]).stem: n["status"] for n in record["notebooks"]} == {"a": "interrupted", "b": "interrupted"}
    for stem in ("a", "b"):
        assert_partial(out / f"{stem}.ipynb", name)
    assert not wait_gone(kernels, timeout=10), "kernels left behind"
    assert not wait_gone(dask_process_pids() - before, timeout=10), "local Dask workers left behind"


def test_sighup_is_handled_like_sigterm(tmp_path: Path) -> None:
    marker = tmp_path / "a.started"
    path = long_notebook(tmp_path / "a.ipynb", marker)
    report = tmp_path / "run.json"
    run, kernels = signal_group_when_started([str(path), "--json", str(report)], [marker], signal.SIGHUP)
    assert run.returncode == 143, run.stderr
    assert PY_TRACEBACK not in run.stderr, run.stderr
    assert "interrupted" in run.stderr and "SIGHUP" in run.stderr
    record = json.loads(report.read_text())
    assert record["exit_code"] == 143 and record["notebooks"][0]["status"] == "interrupted"
    assert_partial(path, "SIGHUP")
    assert not wait_gone(kernels, timeout=10), "kernels left behind"
