"""Parameters are never stale or mis-told: kept values said and recorded, bad names and types refused early."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.support.notebooks import make_notebook

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
NBRUN = str(Path(sys.executable).parent / "nbrun")


def nbrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NBRUN, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def report_notebook(path: Path) -> Path:
    nbformat.write(
        make_notebook(
            ('date = "2026-01-01"\nn_days: int = 7', ["parameters"]), "print(date, n_days, type(n_days).__name__)"
        ),
        path,
    )
    return path


def printed(path: Path) -> str:
    return str(nbformat.read(path, 4).cells[-1].outputs[0].text).strip()


def test_an_in_place_rerun_without_p_says_and_records_the_kept_values(tmp_path: Path) -> None:
    trap = report_notebook(tmp_path / "trap.ipynb")
    first = nbrun("run", "trap.ipynb", "-p", "date", "2026-09-14", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = nbrun("run", "trap.ipynb", "--json", "r.json", "--junit-xml", "j.xml", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    said = [line for line in second.stderr.splitlines() if "injected-parameters" in line]
    assert len(said) == 1 and "date='2026-09-14'" in said[0] and "--clear-params" in said[0], second.stderr
    assert printed(trap) == "2026-09-14 7 int"  # the kept values ran, as a --prepare-only workflow expects
    assert nbformat.read(trap, 4).metadata.nbrun["parameters"] == {"date": "2026-09-14"}
    assert json.loads((tmp_path / "r.json").read_text())["notebooks"][0]["parameters"] == {"date": "2026-09-14"}
    assert "[nbrun] parameters: date='2026-09-14'" in (tmp_path / "j.xml").read_text()

    cleared = nbrun("run", "trap.ipynb", "--clear-params", "--json", "r.json", cwd=tmp_path)
    assert cleared.returncode == 0 and "injected-parameters" not in cleared.stderr, cleared.stderr
    nb = nbformat.read(trap, 4)
    assert printed(trap) == "2026-01-01 7 int"
    assert not any("injected-parameters" in cell.metadata.get("tags", []) for cell in nb.cells)
    assert "parameters" not in nb.metadata.nbrun
    assert "parameters" not in json.loads((tmp_path / "r.json").read_text())["notebooks"][0]


def test_strict_params_refuses_a_notebook_without_a_parameters_cell_before_any_kernel(tmp_path: Path) -> None:
    nbformat.write(make_notebook("x = 1", "print(x)"), tmp_path / "plain.ipynb")
    given = (tmp_path / "plain.ipynb").read_bytes()
    proc = nbrun("run", "plain.ipynb", "-p", "x", "5", "--strict-params", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert (
        proc.stderr.strip()
        == "nbrun: error: plain.ipynb: the notebook has no cell tagged 'parameters' (--strict-params)"
    )
    assert (tmp_path / "plain.ipynb").read_bytes() == given


@pytest.mark.parametrize(
    ("name", "why"), [("class", "is a Python keyword"), ("a-b", "is not a valid Python identifier")]
)
def test_a_name_python_cannot_assign_is_refused_before_any_kernel(tmp_path: Path, name: str, why: str) -> None:
    report_notebook(tmp_path / "r.ipynb")
    proc = nbrun("run", "r.ipynb", "-p", name, "3", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and f"parameter name {name!r} {why}" in proc.stderr, proc.stderr


def test_values_are_read_as_papermill_reads_them_and_a_wrong_type_is_said(tmp_path: Path) -> None:
    report_notebook(tmp_path / "r.ipynb")
    proc = nbrun("run", "r.ipynb", "-o", "out.ipynb", "-p", "date", "false", "-p", "n_days", "fourteen", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert printed(tmp_path / "out.ipynb") == "false fourteen str"  # 'false' stays text, as in papermill
    warned = [line for line in proc.stderr.splitlines() if "n_days" in line]
    assert len(warned) == 1 and "declares an int" in warned[0] and "'fourteen'" in warned[0], proc.stderr
    strict = nbrun("run", "r.ipynb", "-o", "out.ipynb", "-p", "n_days", "fourteen", "--strict-params", cwd=tmp_path)
    assert strict.returncode == 2 and strict.stderr.count("\n") == 1 and "n_days" in strict.stderr, strict.stderr
    widened = nbrun("run", "r.ipynb", "-o", "out.ipynb", "-p", "n_days", "14", "--strict-params", cwd=tmp_path)
    assert widened.returncode == 0, widened.stderr
