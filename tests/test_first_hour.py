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
