"""--html (nbconvert), --report-mode and the remove-* tags, with real kernels."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from conftest import SAMPLES, make_notebook

pytest.importorskip("nbconvert", reason="the html extra (nbconvert) is part of the test extra")

from nbrun import ExecuteOptions, run_path  # noqa: E402

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CSV sample report and the failing sample, run with --html --report-mode in one batch."""
    root = tmp_path_factory.mktemp("html")
    for name in ("csv_report.ipynb", "failing.ipynb"):
        shutil.copy(SAMPLES / name, root / name)
    shutil.copytree(SAMPLES / "data", root / "data")
    done = subprocess.run(
        [sys.executable, "-m", "nbrun.cli", "run", str(root / "csv_report.ipynb"), str(root / "failing.ipynb"),
         "--output-dir", str(root / "out"), "--html", "--report-mode", "-j", "2", "--no-progress",
         "--json", str(root / "run.json")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stderr  # failing.ipynb raises
    return root


def _offline(page: str) -> None:
    """No script or stylesheet is fetched from anywhere: the page works offline."""
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page)


def test_sample_report_html_holds_outputs_and_inline_images(report_run: Path) -> None:
    page = (report_run / "out" / "csv_report.html").read_text(encoding="utf-8")
    nb = nbformat.read(report_run / "out" / "csv_report.ipynb", as_version=4)
    pngs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert pngs
    for output in pngs:  # every plot is inlined byte for byte
        assert f"data:image/png;base64,{output.data['image/png'].strip()}" in page.replace("\n", "")
    streams = "".join(o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream")
    first_line = streams.strip().splitlines()[0]
    assert first_line.split()[0] in page
    _offline(page)
    assert 'class="nbrun-banner' not in page


def test_report_mode_hides_inputs_in_notebook_and_html(report_run: Path) -> None:
    nb = nbformat.read(report_run / "out" / "csv_report.ipynb", as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.metadata["jupyter"]["source_hidden"] is True for cell in code)
    assert all("jupyter" not in cell.metadata for cell in nb.cells if cell.cell_type == "markdown")
    page = (report_run / "out" / "csv_report.html").read_text(encoding="utf-8")
    assert 'class="jp-CodeMirrorEditor' not in page  # no code input rendered at all
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            heading = cell.source.strip().splitlines()[0].lstrip("# ").strip()
            assert heading in page  # markdown stays
    source = (SAMPLES / "csv_report.ipynb").read_text(encoding="utf-8")
    assert "genfromtxt" in source and "genfromtxt" not in page


def test_failed_run_html_has_banner_at_failing_cell(report_run: Path) -> None:
    page = (report_run / "out" / "failing.html").read_text(encoding="utf-8")
    record = json.loads((report_run / "run.json").read_text())
    failing = next(nb for nb in record["notebooks"] if nb["input"].endswith("failing.ipynb"))
    assert failing["html"] == str(report_run / "out" / "failing.html")
    assert 'class="nbrun-banner nbrun-run-failed"' in page and 'href="#nbrun-failed-cell"' in page
    assert page.count('id="nbrun-failed-cell"') == 1
    earlier_output = page.index("before the failure")  # the cells that ran are kept
    banner = page.index('id="nbrun-failed-cell"')
    traceback = page.index("Traceback (most recent call last)")
    assert earlier_output < banner < traceback
    _offline(page)


def test_remove_tags_are_honoured_and_inputs_shown_without_report_mode(tmp_path: Path) -> None:
    nb = make_notebook(
        "print('plain-output'); plain_input_marker = 1",
        ("print('input-removed-output-kept'); removed_input_marker = 1", ["remove-input"]),
        ("print('output-' + 'removed'); kept_input_marker = 1", ["remove-output"]),
        ("print('cell-removed'); removed_cell_marker = 1", ["remove-cell"]),
    )
    nb.cells.insert(0, new_markdown_cell("# Tagged report\n\nSome *emphasis*."))
    source = tmp_path / "tags.ipynb"
    nbformat.write(nb, source)
    result = run_path(source, tmp_path / "out" / "tags.ipynb", ExecuteOptions(write_html=True))
    assert result.ok and result.html_file == tmp_path / "out" / "tags.html"
    page = result.html_file.read_text(encoding="utf-8")
    assert "plain_input_marker" in page and "plain-output" in page
    assert "removed_input_marker" not in page and "input-removed-output-kept" in page
    assert "kept_input_marker" in page and "output-removed" not in page
    assert "removed_cell_marker" not in page and "cell-removed" not in page
    assert "<em>emphasis</em>" in page
    written = nbformat.read(tmp_path / "out" / "tags.ipynb", as_version=4)
    assert len(written.cells) == 5  # the tags act on the HTML only


def test_html_without_nbconvert_is_one_line_exit_2(tmp_path: Path) -> None:
    source = tmp_path / "never.ipynb"
    nbformat.write(make_notebook("open('ran', 'w').write('x')"), source)
    blocker = "import sys; sys.modules['nbconvert'] = None; from nbrun.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", blocker, "run", str(source), "--html"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "nbrun: error: --html needs the html extra: pip install 'jupyter-nbrun[html]'\n"
    assert not (tmp_path / "ran").exists()
