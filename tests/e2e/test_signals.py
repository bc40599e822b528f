"""Signals sent to a running ``nbrun run`` (a subprocess in its own session).

The notebook's first cell prints the kernel's pid; nbrun autosaves every
0.2 s, so the test knows when the long cell has started and which kernel
process must be gone afterwards. Figures are printed with ``FIGURE``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from tests.support.load import within
from tests.support.notebooks import make_notebook
from tests.support.procs import kernel_pids, session_pids, wait_gone

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]

NBRUN = [sys.executable, "-m", "nbrun.cli", "run"]
HELPERS = Path(__file__).resolve().parents[1] / "support" / "scripts"
PYTHON_TRACEBACK = "Traceback (most recent call last):"
PID_CELL = "import os, signal, time\nprint('PID=%d' % os.getpid())"
IN_CELL_1 = "print('IN-CELL-1', flush=True)\n"  # the autosave shows it once cell 1 runs
SLEEPS = IN_CELL_1 + "time.sleep(30)"
DEAF = "signal.signal(signal.SIGINT, signal.SIG_IGN)\n" + IN_CELL_1 + "time.sleep(60)"


def figure(text: str) -> None:
    print(f"\nFIGURE: {text}", flush=True)


def write(path: Path, *sources: str) -> Path:
    nbformat.write(make_notebook(*sources), path)
    return path


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*NBRUN, *args, "--autosave", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_until_cell_1_runs(proc: subprocess.Popen[str], autosaved: Path) -> int:
    """Wait until cell 0 printed the kernel pid and cell 1 is inside its sleep; return that pid."""
    deadline = time.monotonic() + within(30)
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            nb = json.loads(autosaved.read_text())
            outputs = nb["cells"][0]["outputs"]
            in_cell_1 = "".join("".join(out.get("text", "")) for out in nb["cells"][1]["outputs"]).startswith(
                "IN-CELL-1"
            )
            if nb["metadata"].get("nbrun", {}).get("status") == "running" and outputs and in_cell_1:
                text = "".join(outputs[0]["text"])
                pid = int(text.split("=", 1)[1])
                assert pid in kernel_pids()  # the live kernel, as found by pid
                return pid
        except (FileNotFoundError, json.JSONDecodeError, KeyError, IndexError):
            pass
        time.sleep(0.05)
    raise AssertionError("cell 1 never started")


def read_until(proc: subprocess.Popen[str], text: str, timeout: float) -> str:
    """Read stderr lines until one starts with *text*; return what was read (the rest stays for finish)."""
    assert proc.stderr is not None
    stream, lines, found = proc.stderr, [], threading.Event()

    def read() -> None:
        for line in stream:
            lines.append(line)
            if line.startswith(text):
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(within(timeout)), f"nbrun never said {text!r}: {''.join(lines)}"
    return "".join(lines)


def finish(proc: subprocess.Popen[str], timeout: float) -> tuple[int, str, float]:
    """Wait for the process; return (returncode, stderr, seconds waited)."""
    start_wait = time.monotonic()
    try:
        _, stderr = proc.communicate(timeout=within(timeout))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, stderr, time.monotonic() - start_wait


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_run_writes_the_notebook_and_kills_the_kernel(tmp_path: Path, signum: int, code: int) -> None:
    name = signal.Signals(signum).name
    path = write(tmp_path / "long.ipynb", PID_CELL, SLEEPS, "print('never')")
    proc = start(str(path))
    pid = wait_until_cell_1_runs(proc, path)
    os.kill(proc.pid, signum)
    returncode, stderr, took = finish(proc, timeout=15)
    figure(f"{name} -> nbrun exit: {took:.3f} s")
    assert returncode == code, stderr
    assert took < within(5)
    assert PYTHON_TRACEBACK not in stderr
    assert "interrupted" in stderr and name in stderr
    nb = nbformat.read(path, 4)
    meta = nb.metadata.nbrun
    assert meta["status"] == "interrupted" and meta["interrupted_by"] == name and meta["failed_cell"] == 1
    running = nb.cells[1]
    assert running.metadata.nbrun["status"] == "interrupted"
    assert [o.ename for o in running.outputs if o.output_type == "error"] == ["KeyboardInterrupt"]
    assert nb.cells[2].metadata.nbrun == {"status": "not-run"}
    assert wait_gone({pid}, 5.0) == set()


def test_second_ctrl_c_kills_a_kernel_that_ignores_sigint(tmp_path: Path) -> None:
    path = write(tmp_path / "deaf.ipynb", PID_CELL, DEAF, "print('never')")
    proc = start(str(path), "--interrupt-grace", "30")
    pid = wait_until_cell_1_runs(proc, path)
    os.kill(proc.pid, signal.SIGINT)
    said = read_until(proc, "nbrun: SIGINT: stopping", timeout=30)  # the first was handled: two never merge
    os.kill(proc.pid, signal.SIGINT)
    returncode, stderr, took = finish(proc, timeout=20)
    stderr = said + stderr
    figure(f"second SIGINT -> nbrun exit (kernel ignoring SIGINT, --interrupt-grace 30): {took:.3f} s")
    assert returncode == 130, stderr
    assert "nbrun: SIGINT again: killing the kernels" in stderr
    # Far under the 30 s grace a single SIGINT would wait: the second one killed the kernel at once.
    assert took < within(10)
    nb = nbformat.read(path, 4)
    assert nb.metadata.nbrun["status"] == "interrupted"
    assert nb.cells[1].metadata.nbrun["status"] == "interrupted"
    assert "killed" in nb.cells[1].metadata.nbrun["actions"]
    assert nb.cells[2].metadata.nbrun == {"status": "not-run"}
    assert wait_gone({pid}, 5.0) == set()


def test_sigint_during_the_first_of_several_notebooks(tmp_path: Path) -> None:
    first = write(tmp_path / "a.ipynb", PID_CELL, SLEEPS)
    later = [write(tmp_path / f"{name}.ipynb", "print('ran')") for name in ("b", "c")]
    before = {path: path.read_bytes() for path in later}
    report = tmp_path / "report.json"
    proc = start(str(first), *map(str, later), "--json", str(report))
    pid = wait_until_cell_1_runs(proc, first)
    kernels = kernel_pids()  # a's kernel, and any kernel started ahead for b
    os.kill(proc.pid, signal.SIGINT)
    returncode, stderr, took = finish(proc, timeout=15)
    assert returncode == 130, stderr
    assert took < within(5)
    assert PYTHON_TRACEBACK not in stderr
    for path in later:
        assert path.read_bytes() == before[path]
        assert any(path.name in line and "not run" in line for line in stderr.splitlines()), stderr
    records = {Path(r["input"]).name: r for r in json.loads(report.read_text())["notebooks"]}
    assert records["a.ipynb"]["status"] == "interrupted"
    assert records["b.ipynb"]["status"] == records["c.ipynb"]["status"] == "skipped"
    assert nbformat.read(first, 4).metadata.nbrun["status"] == "interrupted"
    assert wait_gone(kernels | {pid}, 5.0) == set()


def test_sigterm_stops_notebooks_running_in_parallel(tmp_path: Path) -> None:
    running = [write(tmp_path / f"{name}.ipynb", PID_CELL, SLEEPS) for name in ("a", "b")]
    waiting = write(tmp_path / "c.ipynb", "print('ran')")
    before = waiting.read_bytes()
    proc = start(*map(str, running), str(waiting), "-j", "2")
    pids = {wait_until_cell_1_runs(proc, path) for path in running}
    kernels = kernel_pids()
    os.kill(proc.pid, signal.SIGTERM)
    returncode, stderr, took = finish(proc, timeout=15)
    figure(f"SIGTERM -> nbrun exit with 2 notebooks running (-j 2): {took:.3f} s")
    assert returncode == 143, stderr
    assert took < within(5)
    assert PYTHON_TRACEBACK not in stderr
    for path in running:
        nb = nbformat.read(path, 4)
        assert nb.metadata.nbrun["status"] == "interrupted" and nb.metadata.nbrun["interrupted_by"] == "SIGTERM"
        assert nb.cells[1].metadata.nbrun["status"] == "interrupted"
    assert waiting.read_bytes() == before
    assert wait_gone(kernels | pids, 5.0) == set()


def _pids_with(marker: str) -> set[int]:
    return session_pids(lambda cmdline: any(marker.encode() in part for part in cmdline))


def test_sigint_while_the_kernel_is_starting(tmp_path: Path) -> None:
    marker = f"slowpoke-{uuid.uuid4().hex}"
    spec = tmp_path / "jupyter" / "kernels" / "slowpoke"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(HELPERS / "slow_kernel.py"), "30", marker, "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "slow", "language": "python"}))
    path = write(tmp_path / "never.ipynb", "print(1)")
    before = path.read_bytes()
    env = {**os.environ, "JUPYTER_PATH": str(tmp_path / "jupyter")}
    proc = subprocess.Popen(
        [*NBRUN, str(path), "-k", "slowpoke", "--startup-timeout", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + within(15)
        while not _pids_with(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _pids_with(marker), "the slow kernel never started"
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGINT)
        try:
            returncode = proc.wait(timeout=within(5))
        except subprocess.TimeoutExpired:
            returncode = None
        assert returncode == 130, "nbrun did not stop within 5 s of SIGINT while the kernel was starting"
        assert path.read_bytes() == before
        assert wait_gone(_pids_with(marker), 3.0) == set()
    finally:
        # Kill the slow kernel processes this test caused (by pid): each failed
        # start makes nbrun retry or give up, so it ends and cleans up itself.
        deadline = time.monotonic() + within(10)
        while proc.poll() is None and time.monotonic() < deadline:
            for pid in _pids_with(marker):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        wait_gone(_pids_with(marker), 3.0)
