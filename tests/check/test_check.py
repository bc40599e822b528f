"""`nbrun check` with real kernels: one catalog notebook covers every compared kind,
marker, tag and sanitizer; a few CLI runs check many variants of it at once."""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest
from click.testing import CliRunner
from lxml import etree
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from PIL import Image

from nbrun.check.model import CheckOptions
from nbrun.check.run import check_file
from nbrun.cli import main
from tests.support.notebooks import ROOT

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
pytest_plugins = ["pytester"]
RECORD_SCHEMA = json.loads((ROOT / "nbrun" / "schemas" / "run-record.schema.json").read_text())
JUNIT_SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "support" / "schemas" / "junit.xsd")))

PNG_CODE = """import io
from PIL import Image as PILImage
from IPython.display import Image, display
buffer = io.BytesIO()
PILImage.new('RGB', (8, 8), (200, 30, 30)).save(buffer, 'PNG')
display(Image(data=buffer.getvalue()))"""
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect x="0" y="0" width="2" height="2" fill="red"/></svg>'

# name -> (source, tags); the notebook's first cell is markdown, so cell indexes start at 1
CATALOG: dict[str, tuple[str, list[str]]] = {
    "params": ("greeting = 'hello'", ["parameters"]),
    "streams": ("import sys\nprint(greeting)\nprint('err', file=sys.stderr)", []),
    "rich": (
        "from IPython.display import HTML, JSON, Latex, Markdown, display\n"
        "display(HTML('<b>bold</b>'))\ndisplay(Latex(r'$\\alpha$'))\n"
        "display(JSON({'a': [1, 2]}))\ndisplay(Markdown('*m*'))",
        [],
    ),
    "svg": (f"from IPython.display import SVG\nSVG('{SVG}')", []),
    "png": (PNG_CODE, []),
    "error": ("# NBVAL_RAISES_EXCEPTION\nraise ValueError('bad value')", []),
    "error_tag": ("1/0", ["nbval-raises-exception"]),
    "address": ("class Thing: pass\nThing()", []),
    "kernel_path": ("import warnings\nwarnings.warn('careful')", []),
    "ignore_comment": ("#  NBVAL_IGNORE_OUTPUT\nimport random\nrandom.random()", []),
    "ignore_tag": ("import random\nrandom.random()", ["nbval-ignore-output"]),
    "skip_comment": ("# NBVAL_SKIP\nraise RuntimeError('must not run')", []),
    "skip_tag": ("raise RuntimeError('must not run either')", ["nbval-skip"]),
    "check_comment": ("## NBVAL_CHECK_OUTPUT\nprint('checked')", []),
    "check_tag": ("print('checked by tag')", ["nbval-check-output"]),
    "ignore_stderr": ("import sys, time\nprint(time.time(), file=sys.stderr)\nprint('kept')", ["nbrun-ignore-stderr"]),
    "stamp": ("import datetime\nprint('stamp', datetime.datetime.now().isoformat())", []),
    "carriage": ("print('done')", []),
    "never_run": ("print('fresh')", []),
    "plain": ("6 * 7", []),
}
NAMES = list(CATALOG)
INDEX = {name: position + 1 for position, name in enumerate(NAMES)}
SANITIZER_FILE = """[timestamps]
regex: \\d{4}-\\d{2}-\\d{2}T[\\d:.]+
replace: DATE

[unused]
regex: nothing-like-this
replace: X
"""


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def cell(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    return nb.cells[INDEX[name]]


def data(nb: nbformat.NotebookNode, name: str, mime: str, position: int = 0) -> dict[str, Any]:
    return [o for o in cell(nb, name).outputs if mime in o.get("data", {})][position]["data"]


def changed_png(payload: str, delta: int) -> str:
    image = Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB")
    red, green, blue = image.getpixel((3, 3))
    image.putpixel((3, 3), (red + delta, green, blue))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    """The catalog run once, then stored values that only sanitizers can match."""
    folder = tmp_path_factory.mktemp("golden")
    cells = [new_markdown_cell("# catalog")]
    for source, tags in CATALOG.values():
        cells.append(new_code_cell(source, metadata={"tags": tags} if tags else {}))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "catalog.ipynb"
    nbformat.write(nb, path)
    result = CliRunner().invoke(main, ["run", str(path), "--allow-errors"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    nb = nbformat.read(path, 4)
    data(nb, "address", "text/plain")["text/plain"] = "<__main__.Thing at 0x7f00deadbeef>"
    cell(nb, "kernel_path").outputs[
        0
    ].text = "/tmp/ipykernel_1/22.py:2: UserWarning: careful\n  warnings.warn('careful')\n"
    done = cell(nb, "carriage").outputs[0]
    cell(nb, "carriage").outputs = [
        nbformat.from_dict({**done, "text": "10%\r50%"}),
        nbformat.from_dict({**done, "text": "\rdone\n"}),
    ]
    never = cell(nb, "never_run")
    never.outputs, never.execution_count = [], None
    return nb


def changed_everywhere(golden: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every compared kind changed in the stored outputs, and the cells that must not be compared too."""
    nb = copy.deepcopy(golden)
    cell(nb, "streams").outputs[0].text = "goodbye\n"  # stdout
    cell(nb, "streams").outputs[1].text = "ERR\n"  # stderr
    data(nb, "rich", "text/html")["text/html"] = "<i>bold</i>"
    data(nb, "rich", "text/latex")["text/latex"] = "$\\beta$"
    data(nb, "rich", "application/json")["application/json"] = {"a": [1, 3]}
    data(nb, "rich", "text/markdown")["text/markdown"] = "*n*"
    data(nb, "svg", "image/svg+xml")["image/svg+xml"] = SVG.replace('fill="red"', 'fill="blue"')
    del data(nb, "png", "image/png")["image/png"]  # an image that vanished
    cell(nb, "error").outputs[-1].evalue = "other value"
    cell(nb, "error_tag").outputs[-1].ename = "TypeError"
    data(nb, "plain", "text/plain")["text/plain"] = "41"
    cell(nb, "check_comment").outputs[0].text = "unchecked\n"
    cell(nb, "check_tag").outputs[0].text = "unchecked by tag\n"
    cell(nb, "stamp").outputs[0].text = "stamp NOT-A-DATE\n"
    for name in ("ignore_comment", "ignore_tag"):
        data(nb, name, "text/plain")["text/plain"] = "'changed'"
    for name in ("skip_comment", "skip_tag"):
        cell(nb, name).outputs = []
    return nb


def equivalent(golden: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Stored outputs that differ only in ways that must not count."""
    nb = copy.deepcopy(golden)
    svg = data(nb, "svg", "image/svg+xml")
    svg["image/svg+xml"] = SVG.replace('x="0" y="0"', 'y="0"  x="0"').replace("><rect", ">\n  <rect")
    data(nb, "png", "image/png")["image/png"] = changed_png(data(nb, "png", "image/png")["image/png"], 3)
    next(o for o in cell(nb, "ignore_stderr").outputs if o.name == "stderr").text = "0.0\n"  # a time
    for output in cell(nb, "plain").outputs:
        output.execution_count = 99
        output.metadata = {"some": "metadata"}
    cell(nb, "plain").execution_count = 99
    return nb


def write(folder: Path, name: str, nb: nbformat.NotebookNode) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


def by_name(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(entry["input"]).name: entry for entry in record["notebooks"]}


def mismatched(entry: dict[str, Any]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for mismatch in entry["check"]["mismatches"]:
        found.setdefault(mismatch["cell"], set()).add(mismatch["kind"])
    return found


def test_every_kind_marker_and_sanitizer(golden: nbformat.NotebookNode, tmp_path: Path) -> None:
    folder = tmp_path / "nbs"
    paths = [
        write(folder, "a_golden.ipynb", golden),
        write(folder, "b_changed.ipynb", changed_everywhere(golden)),
        write(folder, "c_equivalent.ipynb", equivalent(golden)),
    ]
    before = [path.read_bytes() for path in paths]
    sanitizer = tmp_path / "doc_sanitize.cfg"
    sanitizer.write_text(SANITIZER_FILE)
    report, junit = tmp_path / "run.json", tmp_path / "junit.xml"
    result = invoke(
        str(folder),
        "-j",
        "2",
        "-p",
        "greeting",
        "hello",
        "--sanitize-with",
        str(sanitizer),
        "--json",
        str(report),
        "--junit-xml",
        str(junit),
    )
    assert result.exit_code == 6, result.output
    assert [path.read_bytes() for path in paths] == before  # nothing written without --update
    record = json.loads(report.read_text())
    jsonschema.validate(record, RECORD_SCHEMA)
    entries = by_name(record)
    assert entries["a_golden.ipynb"]["status"] == "ok" and entries["a_golden.ipynb"]["check"]["matches"]
    assert entries["c_equivalent.ipynb"]["status"] == "ok", entries["c_equivalent.ipynb"]["check"]
    changed = entries["b_changed.ipynb"]
    assert changed["status"] == "mismatch" and changed["exit_code"] == 6
    assert mismatched(changed) == {
        INDEX["streams"]: {"stdout", "stderr"},
        INDEX["rich"]: {"text/html", "text/latex", "application/json", "text/markdown"},
        INDEX["svg"]: {"image/svg+xml"},
        INDEX["png"]: {"image/png"},
        INDEX["error"]: {"error"},
        INDEX["error_tag"]: {"error"},
        INDEX["plain"]: {"text/plain"},
        INDEX["check_comment"]: {"stdout"},
        INDEX["check_tag"]: {"stdout"},
        INDEX["stamp"]: {"stdout"},
    }
    check = changed["check"]
    for name in ("ignore_comment", "ignore_tag", "never_run"):
        assert INDEX[name] in check["ignored_cells"]
    for name in ("skip_comment", "skip_tag"):
        assert INDEX[name] in check["skipped_cells"]
    diffs = {m["kind"]: m for m in check["mismatches"] if m["cell"] == INDEX["rich"]}
    assert "-<i>bold</i>\n+<b>bold</b>" in diffs["text/html"]["diff"]
    assert "-  3\n+  2" in diffs["application/json"]["diff"]
    error = next(m for m in check["mismatches"] if m["cell"] == INDEX["error"])
    assert "-ValueError: other value\n+ValueError: bad value" in error["diff"]
    assert "-stamp NOT-A-DATE\n+stamp DATE" in next(
        m["diff"] for m in check["mismatches"] if m["cell"] == INDEX["stamp"]
    )
    assert (
        f"b_changed.ipynb: cell {INDEX['plain'] + 1} (index {INDEX['plain']}, In [" in result.stderr
        and "-41\n" in result.stderr.replace("    ", "")
    )
    assert "MISMATCH" in result.stderr and "text/latex differs" in result.stderr
    JUNIT_SCHEMA.assertValid(etree.parse(str(junit)))
    xml = junit.read_text()
    assert 'failures="1"' in xml and 'tests="3"' in xml
    assert 'type="mismatch"' in xml and "-&lt;i&gt;bold&lt;/i&gt;" in xml and "+&lt;b&gt;bold&lt;/b&gt;" in xml


def test_builtin_sanitizers_can_be_turned_off(golden: nbformat.NotebookNode, tmp_path: Path) -> None:
    path = write(tmp_path, "golden.ipynb", golden)
    record = tmp_path / "run.json"
    result = invoke(
        str(path), "--no-sanitize", "all", "--sanitize-with", str(_sanitizer(tmp_path)), "--json", str(record)
    )
    assert result.exit_code == 6, result.output
    entry = json.loads(record.read_text())["notebooks"][0]
    assert mismatched(entry) == {INDEX["address"]: {"text/plain"}, INDEX["kernel_path"]: {"stderr"}}
    assert "-<__main__.Thing at 0x7f00deadbeef>" in result.stderr


def _sanitizer(folder: Path) -> Path:
    path = folder / "sanitize.cfg"
    path.write_text(SANITIZER_FILE)
    return path


def test_lax_compares_only_marked_cells(golden: nbformat.NotebookNode, tmp_path: Path) -> None:
    folder = tmp_path / "nbs"
    write(folder, "changed.ipynb", changed_everywhere(golden))
    unmarked_only = copy.deepcopy(changed_everywhere(golden))
    for name in ("check_comment", "check_tag"):
        cell(unmarked_only, name).outputs = copy.deepcopy(cell(golden, name).outputs)
    write(folder, "unmarked_only.ipynb", unmarked_only)
    record = tmp_path / "run.json"
    result = invoke(str(folder), "--lax", "-j", "2", "--json", str(record))
    assert result.exit_code == 6, result.output
    entries = by_name(json.loads(record.read_text()))
    assert mismatched(entries["changed.ipynb"]) == {INDEX["check_comment"]: {"stdout"}, INDEX["check_tag"]: {"stdout"}}
    assert entries["unmarked_only.ipynb"]["status"] == "ok"


def test_images_by_pixels_with_and_without_tolerance(golden: nbformat.NotebookNode, tmp_path: Path) -> None:
    png_only = new_notebook(cells=[copy.deepcopy(cell(golden, "png"))], metadata=golden.metadata)
    same = write(tmp_path / "same", "png.ipynb", png_only)
    shifted_nb = copy.deepcopy(png_only)
    payload = shifted_nb.cells[0].outputs[0].data
    payload["image/png"] = changed_png(payload["image/png"], 3)
    shifted = write(tmp_path / "shifted", "png.ipynb", shifted_nb)
    exact = invoke(str(same), str(shifted), "--compare-images")
    assert exact.exit_code == 6, exact.output
    assert f"ok {same}" in exact.stderr
    assert "image/png pixels differ" in exact.stderr and "1 of 64 pixels differ" in exact.stderr
    assert "largest channel difference 3" in exact.stderr
    tolerant = check_file(shifted, check=CheckOptions(compare_images=True, image_tolerance=5))  # the library call
    assert tolerant.ok and tolerant.check is not None and tolerant.check.matches, tolerant.check
    assert tolerant.check.compared == (0,)


def test_update_round_trip(golden: nbformat.NotebookNode, tmp_path: Path) -> None:
    stale = changed_everywhere(golden)
    path = write(tmp_path / "ok", "stale.ipynb", stale)
    original = path.read_text()
    failing_nb = copy.deepcopy(stale)
    cell(failing_nb, "error").source = "raise ValueError('bad value')"  # no marker: the run fails
    failing = write(tmp_path / "fails", "failing.ipynb", failing_nb)
    failing_before = failing.read_bytes()
    result = invoke(str(path), str(failing), "--update")
    assert result.exit_code == 1, result.output  # the failed run keeps its code...
    assert failing.read_bytes() == failing_before  # ...and its file
    assert f"updated {path}" in result.stderr and "-goodbye" in result.stderr
    updated = json.loads(path.read_text())
    stored = json.loads(original)
    changed_cells = {
        INDEX[name]
        for name in (
            "streams",
            "rich",
            "svg",
            "png",
            "error",
            "error_tag",
            "plain",
            "check_comment",
            "check_tag",
            "stamp",
        )
    }
    for index, (old, new) in enumerate(zip(stored["cells"], updated["cells"])):
        if index in changed_cells:
            assert {k: v for k, v in old.items() if k not in ("outputs", "execution_count")} == {
                k: v for k, v in new.items() if k not in ("outputs", "execution_count")
            }
            new["outputs"], new["execution_count"] = old["outputs"], old["execution_count"]
        else:
            assert old == new, index
    assert json.dumps(updated, indent=1, sort_keys=True, ensure_ascii=False) + "\n" == original
    again = invoke(str(path), "--sanitize-with", str(_sanitizer(tmp_path)))
    assert again.exit_code == 0, again.output


def test_update_keeps_crlf_line_endings(golden: nbformat.NotebookNode, tmp_path: Path) -> None:
    path = write(tmp_path / "crlf", "stale.ipynb", changed_everywhere(golden))
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    result = invoke(str(path), "--update")
    assert f"updated {path}" in result.stderr, result.output
    raw = path.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n") > 10  # every line still ends CRLF
    again = invoke(str(path), "--sanitize-with", str(_sanitizer(tmp_path)))
    assert again.exit_code == 0, again.output  # and it still reads as the same notebook


ITEM_PLUGIN = """
import pytest
from nbrun.check.pytest_options import add_check_options, check_options_from_config, failure_text
from nbrun.check.run import check_file


def pytest_addoption(parser):
    add_check_options(parser.getgroup("nbrun"))


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ipynb" and parent.config.getoption("nbrun_check"):
        return NotebookFile.from_parent(parent, path=file_path)


class NotebookFile(pytest.File):
    def collect(self):
        yield NotebookItem.from_parent(self, name=self.path.name)


class NotebookItem(pytest.Item):
    def runtest(self):
        result = check_file(self.path, check=check_options_from_config(self.config))
        assert result.ok, result.message
        if not result.check.matches:
            raise AssertionError(failure_text(result.check, self.path.name))

    def repr_failure(self, excinfo):
        return str(excinfo.value)
"""


def test_same_verdicts_inside_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helpers a pytest plugin needs, in a minimal plugin: one item per notebook, the diff as the failure."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeconftest(ITEM_PLUGIN)
    for name, stored in (("good.ipynb", "hi\n"), ("bad.ipynb", "bye\n")):
        nb = new_notebook(
            cells=[
                new_code_cell(
                    "print('hi')",
                    execution_count=1,
                    outputs=[nbformat.v4.new_output("stream", name="stdout", text=stored)],
                )
            ]
        )
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, pytester.path / name)
    result = pytester.runpytest_inprocess("--nbrun-check", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*outputs differ in 1 of 1 compared cells: cell 1 (index 0)*", "*-bye", "*+hi"])
