"""Packaging: the wheel maps cli/ to nbrun.cli and installs no top-level ``cli``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import nbrun
from conftest import ROOT


def test_wheel_layout_and_entry_point(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(tmp_path.glob("nbrun-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "nbrun/cli/main.py" in names and "nbrun/py.typed" in names
    assert not [n for n in names if n.startswith("cli/")]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "nbrun = nbrun.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[pytest11]\nnbrun = nbrun.pytest_plugin" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "nbrun/pytest_plugin/__init__.py" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    probe = "import nbrun.cli, importlib.util; assert importlib.util.find_spec('cli') is None; print(nbrun.cli.__file__)"
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert str(target) in proc.stdout


def test_library_import_pulls_in_no_cli_or_progress_code() -> None:
    probe = "import sys, nbrun; bad = {'click', 'tqdm', 'nbrun.cli'} & set(sys.modules); assert not bad, bad"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_public_api_is_exported() -> None:
    assert sorted(nbrun.__all__) == nbrun.__all__
    for name in ("execute", "async_execute", "run_path", "ExecuteOptions", "ExecutionResult", "NbrunError"):
        assert name in nbrun.__all__ and hasattr(nbrun, name)


def test_library_never_prints_or_exits() -> None:
    # _forkserver.py is not library code: it is the template program run in its own process.
    sources = "\n".join(p.read_text() for p in (ROOT / "nbrun").glob("*.py") if p.name != "_forkserver.py")
    for forbidden in ("print(", "sys.exit", "sys.argv", "import click"):
        assert forbidden not in sources


def test_streaming_writer_is_byte_identical_to_nbformat() -> None:
    import nbformat

    from nbrun.notebook_io import notebook_to_text

    for path in sorted((ROOT / "sample_notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, 4)
        assert notebook_to_text(nb) == nbformat.writes(nb) + "\n", path.name


def test_streaming_writer_handles_huge_strings_identically() -> None:
    import nbformat
    from nbformat.v4 import new_output

    from conftest import make_notebook
    from nbrun.notebook_io import notebook_to_text

    nb = make_notebook("x")
    awkward = 'quote " backslash \\ accent \u00e9 control \x01 emoji \U0001F600 '
    nb.cells[0].outputs = [
        new_output("stream", name="stdout", text=awkward * 60_000 + "\nsecond line\n" + "z" * 3_000_000),
        new_output("stream", name="stderr", text="q" * 2_000_000),
    ]
    assert notebook_to_text(nb) == nbformat.writes(nb) + "\n"
