"""Issue 13, a new user's first hour: each item through the installed ``nbrun`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import make_notebook

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
NBRUN = str(Path(sys.executable).parent / "nbrun")


def nbrun(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NBRUN, *args], input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_python_dash_m_nbrun_is_the_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "nbrun", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("nbrun, version ")
    assert proc.stdout == nbrun("--version").stdout


def test_papermill_habit_is_refused_before_anything_runs(tmp_path: Path) -> None:
    source = tmp_path / "in.ipynb"
    nbformat.write(make_notebook("open('ran', 'w').write('x')"), source)
    before = source.read_bytes()
    proc = nbrun("run", str(source), str(tmp_path / "out" / "new.ipynb"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("nbrun: error: ")
    assert "use -o" in proc.stderr and "Traceback" not in proc.stderr
    assert source.read_bytes() == before and not (tmp_path / "ran").exists() and not (tmp_path / "out").exists()


def test_every_missing_path_is_an_error_before_any_kernel(tmp_path: Path) -> None:
    first = tmp_path / "a.ipynb"
    nbformat.write(make_notebook("open('ran', 'w').write('x')"), first)
    proc = nbrun("run", str(first), str(tmp_path / "gone.ipynb"), str(tmp_path / "also-gone.ipynb"))
    assert proc.returncode == 5
    assert proc.stderr == f"nbrun: error: {tmp_path / 'gone.ipynb'}: no such file\n"
    assert not (tmp_path / "ran").exists()


@pytest.mark.kernel
def test_restart_on_death_reports_the_death_and_the_tail_has_no_banner(tmp_path: Path) -> None:
    dies = tmp_path / "dies.ipynb"
    nbformat.write(make_notebook("x = 1", "import os, time\nos.write(2, b'last words\\n')\ntime.sleep(0.3)\nos._exit(3)",
                                 "print('x' in globals())"), dies)
    fine = tmp_path / "fine.ipynb"
    nbformat.write(make_notebook("1"), fine)
    junit, record = tmp_path / "junit.xml", tmp_path / "run.json"
    proc = nbrun("run", str(dies), str(fine), "--restart-on-death", "--junit-xml", str(junit), "--json", str(record))
    assert proc.returncode == 4, proc.stderr
    summary_row = next(line for line in proc.stderr.splitlines() if line.startswith(str(dies)))
    assert "kernel died" in summary_row and "restarted once" in summary_row and "2 (index 1)" in summary_row
    meta = nbformat.read(dies, 4).metadata.nbrun
    assert meta["status"] == "kernel-died" and meta["kernel_restarts"] == 1 and meta["failed_cell"] == 1
    tail = meta["kernel_exit"]["stderr_tail"]
    assert "last words" in tail and "NOTE: When using the `ipython kernel` entry point" not in tail
    assert "NOTE: When using" not in junit.read_text() and "restarted once" in junit.read_text()
    assert '<error message="kernel died in cell 2 (index 1, In [2])' in junit.read_text()
    notebook = json.loads(record.read_text())["notebooks"][0]
    assert notebook["status"] == "kernel-died" and notebook["exit_code"] == 4 and notebook["kernel_restarts"] == 1
    assert notebook["error"]["cell"] == 1  # machine records keep the 0-based index


@pytest.mark.kernel
def test_dash_output_is_stdout_and_dash_input_is_stdin(tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook("import os; print(os.getcwd())"), source)
    before = source.read_bytes()
    proc = nbrun("run", str(source), "-o", "-")
    assert proc.returncode == 0, proc.stderr
    assert nbformat.reads(proc.stdout, 4).metadata.nbrun["status"] == "ok"  # stdout holds only the notebook
    assert "-> <stdout>" in proc.stderr and source.read_bytes() == before and not (tmp_path / "-").exists()
    piped = nbrun("run", "-", "--json", str(tmp_path / "run.json"), stdin=before.decode(), cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    executed = nbformat.reads(piped.stdout, 4)
    assert executed.cells[0].outputs[0].text == f"{tmp_path}\n"  # a notebook on stdin runs in the current folder
    notebook = json.loads((tmp_path / "run.json").read_text())["notebooks"][0]
    assert (notebook["input"], notebook["output"]) == ("<stdin>", "<stdout>")
    clash = nbrun("run", str(source), "-o", "-", "--json", "-")
    assert clash.returncode == 2 and "both write to stdout" in clash.stderr
