"""The per-notebook --html page carries the run page's Content-Security-Policy: a markdown ``onerror`` and an
output's ``<script>`` do not run when it is opened (headless Chromium), unless --html-allow-scripts.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from nbrun.options import FileOptions
from nbrun.reports.run_page import CONTENT_SECURITY_POLICY
from tests.support.browser import load_page, page_requests
from tests.support.flags import captured, run  # noqa: F401 - the flag -> options harness
from tests.support.notebooks import make_notebook

pytest.importorskip("nbconvert", reason="the html extra (nbconvert) is part of the test extra")
NBRUN = str(Path(sys.executable).parent / "nbrun")
MARKDOWN = "Look: <img src=\"missing.png\" onerror=\"document.body.setAttribute('data-markdown-ran', '1')\">"
OUTPUT = "<script>document.body.setAttribute('data-output-ran', '1')</script><b>bold output</b>"


def _ran(dom: str) -> set[str]:
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None, dom[:500]
    return set(re.findall(r"data-(markdown|output)-ran=", body.group(0)))


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("csp")
    nb = make_notebook(f"from IPython.display import HTML, display\ndisplay(HTML({OUTPUT!r}))")
    nb.cells.insert(0, new_markdown_cell(MARKDOWN))
    nbformat.write(nb, root / "nb.ipynb")

    def page(*flags: str) -> Path:
        out = root / ("allowed" if flags else "default")
        done = subprocess.run(
            [NBRUN, "run", "nb.ipynb", "--output-dir", str(out), "--html", *flags, "--no-progress"],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=root,
        )
        assert done.returncode == 0, done.stderr
        return out / "nb.html"

    return page


@pytest.mark.kernel
def test_html_page_runs_no_script_by_default(hostile_html: Any) -> None:
    page = hostile_html()
    text = page.read_text(encoding="utf-8")
    assert f'content="{CONTENT_SECURITY_POLICY}" http-equiv="Content-Security-Policy"' in text
    assert text.index("Content-Security-Policy") < text.index("<style")  # before anything it governs
    loaded = load_page(page)
    assert "bold output" in loaded.dom and "onerror" in loaded.dom  # both are on the page...
    assert _ran(loaded.dom) == set()  # ...and neither ran
    assert page_requests(loaded.requests) == []


@pytest.mark.kernel
def test_html_allow_scripts_lets_the_outputs_scripts_run(hostile_html: Any) -> None:
    loaded = load_page(hostile_html("--html-allow-scripts"))
    assert _ran(loaded.dom) == {"markdown", "output"}
    assert page_requests(loaded.requests) == []  # still offline


def test_html_allow_scripts_maps_to_its_field(tmp_path: Path, captured: dict[str, Any]) -> None:
    run(tmp_path, "--html", "--html-allow-scripts")
    (job,) = captured["jobs"]
    assert job.file_options == FileOptions(write_html=True, html_allow_scripts=True)


def test_html_allow_scripts_needs_html(tmp_path: Path) -> None:
    nbformat.write(make_notebook("x = 1"), tmp_path / "nb.ipynb")
    done = subprocess.run(
        [NBRUN, "run", "nb.ipynb", "--html-allow-scripts"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2 and "--html-allow-scripts needs --html" in done.stderr
    assert not (tmp_path / "nb.html").exists()
