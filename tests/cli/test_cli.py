"""The command line, in-process (CliRunner) and through the installed executable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from nbrun.cli import main

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
NBRUN = str(Path(sys.executable).parent / "nbrun")


from tests.support.cli import invoke, one_line  # noqa: E402  (shared with the other CLI test files)


@pytest.mark.kernel
def test_in_place_by_default(write_nb) -> None:
    path = write_nb("print('testing testing')")
    result = invoke(str(path))
    assert result.exit_code == 0, result.output
    nb = nbformat.read(path, 4)
    assert nb.cells[0].outputs[0].text == "testing testing\n"
    assert "ok" in result.stderr


@pytest.mark.kernel
def test_output_path_leaves_input_unchanged(write_nb, tmp_path: Path) -> None:
    path = write_nb("1 + 1")
    before = path.read_bytes()
    out = tmp_path / "deep" / "out.ipynb"
    result = invoke(str(path), "-o", str(out))
    assert result.exit_code == 0
    assert path.read_bytes() == before
    assert nbformat.read(out, 4).cells[0].outputs[0].data["text/plain"] == "2"


@pytest.mark.kernel
def test_output_dir_and_several_notebooks_in_order(write_nb, tmp_path: Path) -> None:
    first = write_nb("1/0", name="a.ipynb")
    second = write_nb("import time\ntime.sleep(10)", name="b.ipynb")
    third = write_nb("print(3)", name="c.ipynb")
    result = invoke(str(first), str(second), str(third), "--output-dir", str(tmp_path / "out"), "--timeout", "1")
    assert result.exit_code == 1  # the first failing notebook's code
    assert nbformat.read(tmp_path / "out" / "c.ipynb", 4).cells[0].outputs[0].text == "3\n"
    assert nbformat.read(tmp_path / "out" / "b.ipynb", 4).metadata.nbrun["status"] == "timeout"
    failed = nbformat.read(tmp_path / "out" / "a.ipynb", 4)
    assert failed.metadata.nbrun["status"] == "error"
    assert "ZeroDivisionError" in result.stderr


@pytest.mark.kernel
@pytest.mark.parametrize(("source", "code"), [("1/0", 1), ("import time\ntime.sleep(20)", 3)])
def test_exit_codes_for_failures(write_nb, source: str, code: int) -> None:
    path = write_nb("x = 1", source)
    result = invoke(str(path), "--timeout", "1")
    assert result.exit_code == code
    nb = nbformat.read(path, 4)
    assert nb.cells[0].execution_count == 1
    assert nb.metadata.nbrun["failed_cell"] == 1


@pytest.mark.kernel
def test_unknown_kernel_exit_4_lists_kernels(write_nb) -> None:
    path = write_nb("1")
    before = path.read_bytes()
    result = invoke(str(path), "--kernel", "nope")
    assert result.exit_code == 4
    line = one_line(result.stderr)
    assert "nope" in line and "python3" in line
    assert path.read_bytes() == before


@pytest.mark.kernel
def test_log_output_streams_cell_output(write_nb) -> None:
    path = write_nb("print('live line')", "import sys; print('to stderr', file=sys.stderr)")
    result = invoke(str(path), "--log-output")
    assert "live line" in result.stderr and "to stderr" in result.stderr


@pytest.mark.kernel
def test_verbose_shows_kernel_output(write_nb) -> None:
    path = write_nb("import os\nos.write(2, b'raw fd two\\n')")
    assert "raw fd two" not in invoke(str(path)).stderr
    assert "raw fd two" in invoke(str(path), "-v").stderr


BAD_INPUTS = {
    "not_json.ipynb": (b"{ this is not json", "not valid JSON"),
    "list.ipynb": (b"[1, 2, 3]", "not a notebook"),
    "no_version.ipynb": (b'{"cells": []}', "nbformat"),
    "latin1.ipynb": ('{"cells": [], "note": "caf\xe9"}'.encode("latin-1"), "not UTF-8"),
    "bad_cells.ipynb": (
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "nope"}).encode(),
        "not a valid notebook",
    ),
    "empty.ipynb": (b"", "not valid JSON"),
    "future_major.ipynb": (
        json.dumps({"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}).encode(),
        "unsupported nbformat",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_one_line_exit_5_input_unchanged(tmp_path: Path, name: str) -> None:
    payload, expected = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(payload)
    result = invoke(str(path))
    assert result.exit_code == 5
    line = one_line(result.stderr)
    assert name in line and expected in line
    assert path.read_bytes() == payload


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = invoke(str(tmp_path / "missing.ipynb"))
    assert missing.exit_code == 5 and "no such file" in one_line(missing.stderr)
    empty = tmp_path / "empty"
    empty.mkdir()
    folder = invoke(str(empty))
    assert folder.exit_code == 2 and "contains no notebooks" in one_line(folder.stderr)
    pattern = invoke(str(tmp_path / "*.ipynb"))
    assert pattern.exit_code == 2 and "no notebooks match" in one_line(pattern.stderr)


@pytest.mark.kernel
def test_nbformat_3_is_upgraded(tmp_path: Path) -> None:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": "old"},
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": "print('v3 ok')",
                        "language": "python",
                        "outputs": [],
                        "metadata": {},
                    }
                ],
                "metadata": {},
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    result = invoke(str(path), "-o", str(tmp_path / "new.ipynb"))
    assert result.exit_code == 0, result.stderr
    nb = nbformat.read(tmp_path / "new.ipynb", 4)
    assert nb.nbformat == 4 and nb.cells[0].outputs[0].text == "v3 ok\n"


@pytest.mark.kernel
def test_unwritable_output_exit_5_and_input_untouched(write_nb, tmp_path: Path) -> None:
    path = write_nb("1")
    before = path.read_bytes()
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = invoke(str(path), "-o", str(blocker / "out.ipynb"))
    assert result.exit_code == 5
    assert "out.ipynb" in one_line(result.stderr)
    assert path.read_bytes() == before


def test_usage_errors_exit_2(write_nb, tmp_path: Path) -> None:
    path = write_nb("1")
    other = write_nb("2", name="other.ipynb")
    assert invoke(str(path), str(other), "-o", str(tmp_path / "x.ipynb")).exit_code == 2
    assert invoke(str(path), "-j", "0").exit_code == 2
    assert invoke(str(path), "--exclude", "*.ipynb").exit_code == 2
    assert invoke(str(path), "--timeout", "-3").exit_code == 2
    assert invoke(str(path), "--timeout", "soon").exit_code == 2
    assert CliRunner().invoke(main, ["run"]).exit_code == 2


def test_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0
    for text in ("0 success", "1 a cell raised", "2 usage error", "3 a cell", "4 the kernel", "5 a notebook"):
        assert text in " ".join(result.output.split())


@pytest.mark.kernel
def test_installed_executable_runs_and_reports(write_nb, tmp_path: Path) -> None:
    path = write_nb("print('via the executable')", "1/0")
    proc = subprocess.run([NBRUN, "run", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert (
        "Traceback (most recent call last)" not in proc.stderr.split("ZeroDivisionError")[0]
        or "raised ZeroDivisionError" in proc.stderr
    )
    assert "cell 2 (index 1, In [2]) raised ZeroDivisionError" in proc.stderr
    nb = nbformat.read(path, 4)
    assert nb.cells[0].outputs[0].text == "via the executable\n"
    bad = tmp_path / "bad.ipynb"
    bad.write_text("nope")
    proc = subprocess.run([NBRUN, "run", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 5 and one_line(proc.stderr)
    assert proc.stdout == ""


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "nbrun.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "nbrun" in proc.stdout
