"""The run page (--report, nbrun report): rendered from the run record, checked in headless Chromium."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import nbformat
import pytest
from nbformat.v4 import new_output
from PIL import Image

from nbrun.reports.ansi_html import ansi_to_html
from nbrun.reports.run_facts import image_thumbnails
from nbrun.reports.run_page import CONTENT_SECURITY_POLICY, render_run_page
from tests.support.browser import PageLoad, assert_offline, chromium_path, load_page, page_requests
from tests.support.notebooks import ROOT, SAMPLES, make_notebook

RECORD_SCHEMA = json.loads((ROOT / "nbrun" / "schemas" / "run-record.schema.json").read_text())
HOSTILE = "<script>document.body.dataset.pwned='{}'</script><b>bold</b>"
PROBE = "http://nbrun-probe.invalid/probe.png"
# Injected into the test copy only: before the load event, open every <details> and make every
# image eager, so the load event waits for all of them; then record each natural width. One
# control image from the proxy proves requests are being seen.
CHECKER = f"""<img id="nbrun-probe" src="{PROBE}" alt="">
<script>
const pageImages = () => [...document.querySelectorAll('img:not(#nbrun-probe)')];
document.querySelectorAll('details').forEach(d => d.open = true);
pageImages().forEach(img => img.loading = 'eager');
addEventListener('load', () => {{
  const images = pageImages();
  for (const img of images) {{
    img.setAttribute('data-natural-width', String(img.complete ? img.naturalWidth : -1));
  }}
  document.body.setAttribute('data-images-checked', String(images.length));
  console.log('nbrun-checker-done ' + images.length);
}});
</script>"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A batch of four, --html --report-mode --extract-images --json --report: the CSV sample report
    and the plots sample (images), the failing sample, and a hostile notebook."""
    root = tmp_path_factory.mktemp("runpage")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for name in ("csv_report.ipynb", "plots.ipynb", "failing.ipynb"):
        shutil.copy(SAMPLES / name, notebooks / name)
    shutil.copytree(SAMPLES / "data", notebooks / "data")
    hostile = make_notebook(
        f"print({HOSTILE.format('stdout')!r})",
        f"from IPython.display import HTML, display; display(HTML({HOSTILE.format('html')!r}))",
        f"raise ValueError({HOSTILE.format('error')!r})",
    )
    nbformat.write(hostile, notebooks / "hostile<b>&name.ipynb")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbrun.cli",
            "run",
            str(notebooks),
            "--output-dir",
            str(root / "out"),
            "-j",
            "4",
            "--extract-images",
            str(root / "images"),
            "--json",
            str(root / "run.json"),
            "--report",
            str(root / "report" / "page.html"),
            "--no-progress",
            "--html",
            "--report-mode",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert done.returncode == 1, done.stderr
    return root


@pytest.fixture(scope="module")
def checked(run_dir: Path) -> PageLoad:
    """The DOM of a copy of the page with the checker script (and a CSP that lets it run)."""
    page = (run_dir / "report" / "page.html").read_text(encoding="utf-8")
    relaxed = "default-src 'none'; img-src data: http:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
    assert CONTENT_SECURITY_POLICY in page
    copy = page.replace(CONTENT_SECURITY_POLICY, relaxed).replace("</body>", CHECKER + "</body>")
    test_copy = run_dir / "report" / "checked.html"
    test_copy.write_text(copy, encoding="utf-8")
    return load_page(test_copy)


def test_record_with_page_fields_matches_schema(run_dir: Path) -> None:
    record = json.loads((run_dir / "run.json").read_text())
    jsonschema.validate(record, RECORD_SCHEMA)
    by_name = {Path(nb["input"]).name: nb for nb in record["notebooks"]}
    assert record["host"] and record["cwd"] == str(run_dir)
    plots = by_name["plots.ipynb"]
    assert len(plots["images"]) == 4 and all(
        image["file"].startswith(str(run_dir / "images")) for image in plots["images"]
    )
    failure = by_name["failing.ipynb"]["failure"]
    assert "values['missing']" in failure["source"] and any("KeyError" in line for line in failure["traceback"])
    assert all(cell.get("duration", 0) >= 0 for cell in plots["cells"])


def test_nbrun_report_renders_the_same_page_from_the_saved_record(run_dir: Path) -> None:
    again = run_dir / "report" / "again.html"
    done = subprocess.run(
        [sys.executable, "-m", "nbrun.cli", "report", str(run_dir / "run.json"), "-o", str(again)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=run_dir,
    )
    assert done.returncode == 0, done.stderr
    assert again.read_text(encoding="utf-8") == (run_dir / "report" / "page.html").read_text(encoding="utf-8")


def test_nbrun_report_bad_record_is_one_line_exit_5(tmp_path: Path) -> None:
    bad = tmp_path / "run.json"
    bad.write_text("{not json")
    done = subprocess.run(
        [sys.executable, "-m", "nbrun.cli", "report", str(bad), "-o", str(tmp_path / "p.html")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 5
    assert done.stderr.startswith(f"nbrun: error: {bad}: not a JSON run record") and done.stderr.count("\n") == 1
    assert not (tmp_path / "p.html").exists()


def test_browser_shows_every_notebook_and_failure(checked: PageLoad) -> None:
    rows = re.findall(r'<tr class="(\w*)" id="row-(\d+)">', checked.dom)
    assert len(rows) == 4
    assert sorted(kind for kind, _ in rows) == ["bad", "bad", "ok", "ok"]
    failures = re.findall(r'<details class="failure" id="fail-(\d+)" open="">', checked.dom)
    assert len(failures) == 2
    assert "Traceback" in checked.dom and "KeyError" in checked.dom
    assert '<span class="ansi-red">KeyError</span>' in checked.dom  # ANSI colours became HTML colours
    assert "\x1b[" not in checked.dom


def test_browser_decodes_every_thumbnail(checked: PageLoad, run_dir: Path) -> None:
    widths = re.findall(r'data-natural-width="(\d+)"', checked.dom)
    assert checked.dom.count('data-images-checked="6"') == 1
    assert len(widths) == 6 and all(int(width) > 0 for width in widths)
    links = re.findall(r'<a href="([^"]+)"><img ', checked.dom)
    assert len(links) == 6 and all((run_dir / "report" / link).is_file() for link in links)


def test_browser_renders_notebook_text_as_text(checked: PageLoad) -> None:
    assert "data-pwned" not in checked.dom  # no script from the notebook ran
    assert "<script>document.body.dataset.pwned" not in checked.dom
    assert "&lt;script&gt;document.body.dataset.pwned='error'&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in checked.dom
    assert "hostile&lt;b&gt;&amp;name.ipynb" in checked.dom and "hostile<b>" not in checked.dom


def test_browser_sees_no_console_errors_and_no_page_requests(checked: PageLoad) -> None:
    assert [line for line in checked.console if "nbrun-checker-done 6" not in line] == []
    assert any("nbrun-checker-done 6" in line for line in checked.console)  # the console is being read
    assert page_requests(checked.requests) == [f"GET {PROBE}"]  # the proxy sees requests: only the probe


def test_page_as_shipped_in_browser_screenshot(run_dir: Path) -> None:
    shot = run_dir / "report" / "page.png"
    loaded = load_page(run_dir / "report" / "page.html", screenshot=shot, window="1000,1300")
    assert loaded.console == [] and page_requests(loaded.requests) == []
    with Image.open(shot) as image:
        assert image.size == (1000, 1300)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50  # something was drawn


def test_render_escapes_every_notebook_text() -> None:
    evil = "<img src=x onerror=alert(1)>\"'&"
    record = {
        "nbrun_version": evil,
        "started": evil,
        "duration": 1.0,
        "exit_code": 1,
        "totals": {evil: 1},
        "host": evil,
        "notebooks": [
            {
                "input": evil,
                "output": "javascript:alert(1)",
                "status": evil,
                "exit_code": 1,
                "duration": 0.1,
                "message": evil,
                "error": {"cell": 0, "ename": evil, "evalue": evil},
                "parameters": {evil: evil},
                "cells": [{"index": 0, "status": evil, "duration": 0.1}],
                "extracted_files": [],
                "html": evil,
                "failure": {"source": evil, "traceback": [f"\x1b[31m{evil}\x1b[0m"]},
                "images": [
                    {"cell": 0, "output": 0, "mime": "image/png", "thumbnail": "javascript:alert(1)", "file": evil}
                ],
            }
        ],
    }
    page = render_run_page(record, page_dir=Path.cwd())
    assert "<img src=x" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert 'href="javascript:' not in page and 'src="javascript:' not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;" in page


def test_ansi_to_html_colours_and_escapes() -> None:
    text = "\x1b[0;31mValueError\x1b[0m: <b>\x1b[1;32mok\x1b[0m \x1b[38;5;196mx\x1b[38;2;1;2;3my\x1b[K"
    assert ansi_to_html(text) == (
        '<span class="ansi-red">ValueError</span>: &lt;b&gt;<span class="ansi-green ansi-bold">ok</span> '
        '<span style="color:rgb(255,0,0)">x</span><span style="color:rgb(1,2,3)">y</span>'
    )


def test_chromium_is_available_or_the_skip_is_loud() -> None:
    assert chromium_path()


def test_sample_report_html_holds_outputs_and_inline_images(run_dir: Path) -> None:
    page = (run_dir / "out" / "csv_report.html").read_text(encoding="utf-8")
    nb = nbformat.read(run_dir / "out" / "csv_report.ipynb", as_version=4)
    pngs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 2
    for output in pngs:  # every plot is inlined byte for byte
        assert f"data:image/png;base64,{output.data['image/png'].strip()}" in page.replace("\n", "")
    streams = "".join(o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream")
    assert streams.strip() and all(line.split()[0] in page for line in streams.strip().splitlines())
    assert 'class="nbrun-banner' not in page
    assert_offline(page)


def test_report_mode_hides_inputs_in_notebook_and_html(run_dir: Path) -> None:
    nb = nbformat.read(run_dir / "out" / "csv_report.ipynb", as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.metadata["jupyter"]["source_hidden"] is True for cell in code)
    page = (run_dir / "out" / "csv_report.html").read_text(encoding="utf-8")
    assert 'class="jp-CodeMirrorEditor' not in page  # no code input rendered at all
    assert "genfromtxt" in code[1].source and "genfromtxt" not in page
    assert "Sales report" in page  # markdown stays


def test_failed_run_html_has_banner_at_failing_cell(run_dir: Path) -> None:
    page = (run_dir / "out" / "failing.html").read_text(encoding="utf-8")
    record = json.loads((run_dir / "run.json").read_text())
    failing = next(nb for nb in record["notebooks"] if nb["input"].endswith("failing.ipynb"))
    assert failing["html"] == str(run_dir / "out" / "failing.html")
    assert 'class="nbrun-banner nbrun-run-failed"' in page and 'href="#nbrun-failed-cell"' in page
    assert page.count('id="nbrun-failed-cell"') == 1
    earlier_output = page.index("before the failure")  # the cells that ran are kept
    banner = page.index('id="nbrun-failed-cell"')
    traceback = page.index("Traceback (most recent call last)")
    assert earlier_output < banner < traceback
    assert_offline(page)


def test_thumbnails_skip_broken_payloads_and_keep_the_limit(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 300), (10, 200, 10)).save(buffer, "PNG")
    good = base64.b64encode(buffer.getvalue()).decode()
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
    nb = make_notebook("a", "b", "c")
    nb.cells[0].outputs = [new_output("display_data", data={"image/png": "bm90IGFuIGltYWdl"})]  # "not an image"
    nb.cells[1].outputs = [new_output("display_data", data={"image/png": good})] * 7
    nb.cells[2].outputs = [new_output("display_data", data={"image/svg+xml": svg})]
    thumbnails = image_thumbnails(nb, None)
    assert [(t["cell"], t["output"]) for t in thumbnails] == [(1, i) for i in range(6)]
    assert thumbnails[0]["width"] == 900 and thumbnails[0]["height"] == 300
    with Image.open(io.BytesIO(base64.b64decode(thumbnails[0]["thumbnail"].split(",", 1)[1]))) as small:
        assert small.size == (240, 80)
    assert image_thumbnails(nb, None, limit=20)[-1]["thumbnail"].startswith("data:image/svg+xml;base64,")


def test_unwritable_report_page_is_one_line_and_exit_5(tmp_path: Path) -> None:
    source = tmp_path / "tiny.ipynb"
    nbformat.write(make_notebook("1 + 1"), source)
    (tmp_path / "a-file").write_text("")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbrun.cli",
            "run",
            str(source),
            "--no-progress",
            "--report",
            str(tmp_path / "a-file" / "page.html"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 5
    errors = [line for line in done.stderr.splitlines() if line.startswith("nbrun: error:")]
    assert len(errors) == 1 and "page.html" in errors[0] and "Traceback" not in done.stderr
    assert nbformat.read(source, as_version=4).cells[0].outputs  # the run itself was kept


def test_notebook_html_loads_offline_in_browser(run_dir: Path) -> None:
    loaded = load_page(run_dir / "out" / "csv_report.html")
    assert loaded.console == [] and page_requests(loaded.requests) == []
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', loaded.dom)) == 2
