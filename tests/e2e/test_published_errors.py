"""A cell whose reply is ok but which published an error (a figure that failed to render) is a failed cell."""

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
BAD_REPR = "class Bad:\n    def _repr_html_(self):\n        raise ValueError('cannot render')\n\nBad()"


def nbrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NBRUN, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_an_error_published_under_an_ok_reply_fails_the_cell_and_says_so(tmp_path: Path) -> None:
    nbformat.write(make_notebook("print('before')", BAD_REPR, "print('after')"), tmp_path / "nb.ipynb")
    proc = nbrun("run", "nb.ipynb", "-o", "out.ipynb", "--json", "r.json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    # ipykernel replies "error" naming no exception here (matplotlib's failed render replies "ok"): the output names it
    assert "cell 2 (index 1, In [2])" in proc.stderr and "ValueError: cannot render (notebook written" in proc.stderr
    record = json.loads((tmp_path / "r.json").read_text())["notebooks"][0]
    assert record["status"] == "error" and record["error"] == {
        "cell": 1,
        "ename": "ValueError",
        "evalue": "cannot render",
    }
    out = nbformat.read(tmp_path / "out.ipynb", 4)
    assert any(o.output_type == "error" for o in out.cells[1].outputs) and out.cells[2].outputs == []

    allowed = nbrun("run", "nb.ipynb", "-o", "out.ipynb", "--allow-errors", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert nbformat.read(tmp_path / "out.ipynb", 4).cells[2].outputs[0].text == "after\n"


def test_the_raises_exception_tag_covers_a_published_error(tmp_path: Path) -> None:
    nbformat.write(make_notebook((BAD_REPR, ["raises-exception"]), "print('after')"), tmp_path / "nb.ipynb")
    proc = nbrun("run", "nb.ipynb", "-o", "out.ipynb", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
