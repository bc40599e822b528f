"""Packaging: the wheel maps cli/ to nbrun.cli and installs no top-level ``cli``."""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest

import nbrun
from tests.support.notebooks import ROOT, make_notebook


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build``: the sdist, then the wheel built from it (so the sdist must be complete).

    Built from a copy of the tree: setuptools writes its release folder into the source folder, and two
    xdist workers building there at once remove each other's files.
    """
    out, source = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("source") / "tree"
    skipped = (".git", ".ci-venv", ".venv", "*.egg-info", "build", "dist", "site", "__pycache__", "jupyter_nbrun-*")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*skipped), symlinks=True)
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_build_makes_an_sdist_and_a_wheel_named_jupyter_nbrun(dist: Path) -> None:
    assert sorted(p.name for p in dist.iterdir()) == [
        "jupyter_nbrun-0.1.0-py3-none-any.whl",
        "jupyter_nbrun-0.1.0.tar.gz",
    ]
    with tarfile.open(dist / "jupyter_nbrun-0.1.0.tar.gz") as sdist:
        names = sdist.getnames()
    assert (
        "jupyter_nbrun-0.1.0/nbrun/schemas/events.schema.json" in names
        and "jupyter_nbrun-0.1.0/cli/commands/run.py" in names
    )


def test_wheel_installed_in_a_fresh_venv_runs_a_notebook(dist: Path, tmp_path: Path) -> None:
    """The wheel alone, in a new venv; its dependencies come from this test environment.

    The wheel is installed first, into the empty venv (no index, no deps), so pip
    sees nothing else. Then one .pth line appends this environment's
    site-packages for ipykernel, nbformat...: a .pth line only adds a path, the
    .pth files inside it (this checkout's editable install) are not run, so the
    command and ``import nbrun`` are the wheel's. Far faster than installing
    the dependencies again, and nothing is downloaded.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    wheel = next(dist.glob("*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site_packages / "test-env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook("import nbrun, sys\nprint(nbrun.__file__)\nprint(sys.prefix)"), notebook)
    proc = subprocess.run(
        [str(venv / "bin" / "nbrun"), "run", str(notebook), "--json", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["notebooks"][0]["status"] == "ok"
    printed = nbformat.read(notebook, 4).cells[0].outputs[0].text.splitlines()
    assert printed == [str(site_packages / "nbrun" / "__init__.py"), str(venv)]  # the wheel's nbrun, the venv's kernel
    version = subprocess.run([str(python), "-m", "nbrun", "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert version.stdout.strip() == "nbrun, version 0.1.0", version.stderr


def test_wheel_layout_and_entry_point(dist: Path, tmp_path: Path) -> None:
    wheel = next(dist.glob("jupyter_nbrun-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "nbrun/cli/commands/run.py" in names and "nbrun/py.typed" in names
    assert [
        n for n in names if n.startswith("nbrun/reports/templates/nbrun_lab/")
    ]  # the HTML template moved with reports
    assert "nbrun/check/compare.py" in names
    assert "nbrun/cache/store.py" in names  # the execution cache subpackage
    assert not [n for n in names if n.startswith("cli/")]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "nbrun = nbrun.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[pytest11]\nnbrun = nbrun.pytest_plugin" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "nbrun/pytest_plugin/__init__.py" in names
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import nbrun.cli, importlib.util; assert importlib.util.find_spec('cli') is None; print(nbrun.cli.__file__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
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
    # Programs run in their own process are not library code: the fork template, the daemon's starter.
    programs = {ROOT / "nbrun/kernel/fork/_forkserver.py", ROOT / "nbrun/kernel/daemon/__main__.py"}
    sources = "\n".join(p.read_text() for p in (ROOT / "nbrun").rglob("*.py") if p not in programs)
    for forbidden in ("print(", "sys.exit", "sys.argv", "import click"):
        assert forbidden not in sources


def test_streaming_writer_is_byte_identical_to_nbformat() -> None:
    import nbformat

    from nbrun.notebook.format import notebook_to_text

    for path in sorted((ROOT / "sample_notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, 4)
        assert notebook_to_text(nb) == nbformat.writes(nb) + "\n", path.name


def test_streaming_writer_handles_huge_strings_identically() -> None:
    import nbformat
    from nbformat.v4 import new_output

    from nbrun.notebook.format import notebook_to_text
    from tests.support.notebooks import make_notebook

    nb = make_notebook("x")
    awkward = 'quote " backslash \\ accent \u00e9 control \x01 emoji \U0001f600 '
    nb.cells[0].outputs = [
        new_output("stream", name="stdout", text=awkward * 60_000 + "\nsecond line\n" + "z" * 3_000_000),
        new_output("stream", name="stderr", text="q" * 2_000_000),
    ]
    assert notebook_to_text(nb) == nbformat.writes(nb) + "\n"
