"""--report-mode never hides the code of a source notebook for good; its HTML page and -o outputs are hidden."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.support.notebooks import make_notebook

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
NBRUN = str(Path(sys.executable).parent / "nbrun")
CODE = "secret_formula = 6 * 7\nprint('the answer')"


def hidden(path: Path) -> list[bool]:
    return [bool(c.metadata.get("jupyter", {}).get("source_hidden")) for c in nbformat.read(path, 4).cells]


def test_an_in_place_run_keeps_the_code_visible_and_its_html_hides_it(tmp_path: Path) -> None:
    nbformat.write(make_notebook(CODE), tmp_path / "nb.ipynb")
    proc = subprocess.run(
        [NBRUN, "run", "nb.ipynb", "--report-mode", "--html"], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "--report-mode" in line]
    assert len(warned) == 1 and "keeps the code visible" in warned[0] and "--html pages hide it" in warned[0]
    assert hidden(tmp_path / "nb.ipynb") == [False]
    page = (tmp_path / "nb.html").read_text()
    assert "the answer" in page and "secret_formula" not in page

    out = subprocess.run(
        [NBRUN, "run", "nb.ipynb", "--report-mode", "-o", "out.ipynb"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 0 and "--report-mode" not in out.stderr, out.stderr
    assert hidden(tmp_path / "out.ipynb") == [True] and hidden(tmp_path / "nb.ipynb") == [False]
