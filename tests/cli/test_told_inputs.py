"""Inputs that used to mislead: -o names, a -p missing its value, output folders searched again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.support.cli import invoke, one_line
from tests.support.notebooks import make_notebook


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    path = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook("1 + 1"), path)
    return path


@pytest.mark.parametrize(
    ("target", "hint"),
    [("out.html", "--html writes an HTML page"), ("result", "name a .ipynb file"), ("out.json", "name a .ipynb file")],
)
def test_an_output_that_is_not_a_notebook_file_is_refused(notebook: Path, target: str, hint: str) -> None:
    result = invoke(str(notebook), "-o", str(notebook.parent / target))
    assert result.exit_code == 2 and hint in one_line(result.stderr), result.stderr
    assert not (notebook.parent / target).exists()


def test_a_p_without_its_value_names_p_not_a_missing_notebook(notebook: Path) -> None:
    result = invoke(str(notebook), "-p", "n_days", "-o", "out.ipynb")
    line = one_line(result.stderr)
    assert result.exit_code == 2 and line.startswith("nbrun: error: -p n_days -o: ") and "value is missing" in line
    raw = invoke(str(notebook), "-r", "--json", "x")
    assert raw.exit_code == 2 and "-r --json x" in one_line(raw.stderr)


@pytest.mark.kernel
@pytest.mark.usefixtures("no_leaked_kernels")
def test_the_runs_own_output_folder_is_not_searched_again(tmp_path: Path) -> None:
    for name in ("a", "b"):
        nbformat.write(make_notebook("1"), tmp_path / f"{name}.ipynb")
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        for _ in range(2):
            result = invoke(".", "--output-dir", "out/all", "--extract-images", "img", "--json", "r.json")
            assert result.exit_code == 0, result.stderr
            ran = sorted(Path(n["input"]).as_posix() for n in json.loads(Path("r.json").read_text())["notebooks"])
            assert ran == ["a.ipynb", "b.ipynb"], ran
        assert not Path("out/all/out").exists()
        named = invoke("out/all/a.ipynb", "-o", "again.ipynb")  # named on the command line, it runs
        assert named.exit_code == 0, named.stderr
    finally:
        os.chdir(cwd)


def test_jupyter_executes_inplace_flag_is_answered(notebook: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nbrun.cli", "run", str(notebook), "--inplace"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert one_line(proc.stderr) == (
        "nbrun: error: --inplace is not an nbrun flag: nbrun writes the executed notebook in place by default "
        "(-o FILE or --output-dir DIR write elsewhere)"
    )


def test_cache_commands_name_a_missing_folder_and_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from nbrun.cli import main

    monkeypatch.delenv("NBRUN_CACHE_DIR", raising=False)
    unset = CliRunner().invoke(main, ["cache", "list"])
    assert unset.exit_code == 2 and "give --cache DIR or set $NBRUN_CACHE_DIR" in one_line(unset.stderr)
    missing = CliRunner().invoke(main, ["cache", "list", "--cache", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and one_line(missing.stderr).endswith("nowhere: no such cache folder")
    monkeypatch.setenv("NBRUN_CACHE_DIR", str(tmp_path))
    assert CliRunner().invoke(main, ["cache", "list"]).exit_code == 0


def test_a_missing_folder_is_not_called_a_missing_file(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "reports"))
    assert result.exit_code == 5 and one_line(result.stderr).endswith("reports: no such file or folder")
