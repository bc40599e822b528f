"""The HTML export itself (nbconvert, no kernel needed): tags, hidden inputs, the missing extra.

The HTML of real runs (the sample report, a failing notebook, --report-mode) is checked in
test_run_page.py, on the batch that also makes the run page.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_output
from PIL import Image

from nbrun.reports.hide_inputs import hide_code_inputs
from nbrun.reports.html_export import write_notebook_html
from tests.support.browser import assert_offline
from tests.support.notebooks import make_notebook

pytest.importorskip("nbconvert", reason="the html extra (nbconvert) is part of the test extra")


def _printed(nb: nbformat.NotebookNode, index: int, text: str) -> None:
    nb.cells[index].outputs = [new_output("stream", name="stdout", text=text + "\n")]
    nb.cells[index].execution_count = index


def test_remove_tags_are_honoured_and_inputs_shown_without_report_mode(tmp_path: Path) -> None:
    nb = make_notebook(
        "print('plain-output'); plain_input_marker = 1",
        ("print('input-removed-output-kept'); removed_input_marker = 1", ["remove-input"]),
        ("print('output-' + 'removed'); kept_input_marker = 1", ["remove-output"]),
        ("print('cell-removed'); removed_cell_marker = 1", ["remove-cell"]),
        "print('collapsed-output'); collapsed_input_marker = 1",
    )
    for index, text in enumerate(
        ("plain-output", "input-removed-output-kept", "output-removed", "cell-removed", "collapsed-output")
    ):
        _printed(nb, index, text)
    nb.cells[4].metadata["jupyter"] = {"source_hidden": True}  # as JupyterLab writes a collapsed input
    nb.cells.insert(0, new_markdown_cell("# Tagged report\n\nSome *emphasis*."))
    written = write_notebook_html(nb, tmp_path / "out" / "tags.ipynb")
    assert written == tmp_path / "out" / "tags.html"
    page = written.read_text(encoding="utf-8")
    assert "plain_input_marker" in page and "plain-output" in page
    assert "removed_input_marker" not in page and "input-removed-output-kept" in page
    assert "kept_input_marker" in page and "output-removed" not in page
    assert "removed_cell_marker" not in page and "cell-removed" not in page
    assert "collapsed_input_marker" not in page and "collapsed-output" in page
    assert "<em>emphasis</em>" in page
    assert len(nb.cells) == 6 and "transient" not in nb.cells[5].metadata  # the notebook is not changed
    assert_offline(page)


def test_stripped_extracted_images_are_inlined_from_their_files(tmp_path: Path) -> None:
    image = Image.new("RGB", (7, 5), (200, 30, 30))
    (tmp_path / "imgs").mkdir()
    image.save(tmp_path / "imgs" / "plot.png")
    owner = str((tmp_path / "nb.ipynb").resolve())  # the ownership record: nbrun extracted it for nb.ipynb
    (tmp_path / "imgs" / ".nbrun-images.json").write_text(json.dumps({"plot.png": owner}))
    nb = make_notebook("show()")
    nb.cells[0].outputs = [
        new_output(
            "display_data", data={"text/plain": "<Figure>"}, metadata={"filenames": {"image/png": "imgs/plot.png"}}
        )
    ]
    page = write_notebook_html(nb, tmp_path / "nb.ipynb").read_text(encoding="utf-8")
    payload = base64.b64encode((tmp_path / "imgs" / "plot.png").read_bytes()).decode()
    assert f"data:image/png;base64,{payload}" in page.replace("\n", "")
    assert "imgs/plot.png" not in page
    assert_offline(page)


def test_report_mode_marks_code_cells_only() -> None:
    nb = make_notebook("a = 1", "b = 2")
    nb.cells.append(new_markdown_cell("text"))
    assert hide_code_inputs(nb) == 2
    assert [cell.metadata.get("jupyter") for cell in nb.cells] == [{"source_hidden": True}] * 2 + [None]


def test_html_without_nbconvert_is_one_line_exit_2(tmp_path: Path) -> None:
    source = tmp_path / "never.ipynb"
    nbformat.write(make_notebook("open('ran', 'w').write('x')"), source)
    blocker = "import sys; sys.modules['nbconvert'] = None; from nbrun.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", blocker, "run", str(source), "--html"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr == "nbrun: error: --html needs the html extra: pip install 'jupyter-nbrun[html]'\n"
    assert not (tmp_path / "ran").exists()


def test_a_hidden_input_shows_no_out_prompt(tmp_path: Path) -> None:
    """Report mode hides the code; an ``Out[4]:`` beside nothing would only point at what was hidden."""
    import re

    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from nbrun.reports.html_export import write_notebook_html

    prompts = []
    for hidden in (True, False):
        cell = new_code_cell("6 * 7", execution_count=4)
        cell.outputs = [new_output("execute_result", data={"text/plain": "42"}, execution_count=4)]
        if hidden:
            cell.metadata["jupyter"] = {"source_hidden": True}
        page = Path(write_notebook_html(new_notebook(cells=[cell]), tmp_path / f"{hidden}.ipynb")).read_text()
        prompts.append(re.findall(r'jp-OutputArea-prompt">\s*([^<]*)', page))
    assert prompts == [[""], ["Out[4]:"]]
