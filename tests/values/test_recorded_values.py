"""Values a notebook records and expectations on them (issue 24), through the installed command and real kernels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from lxml import etree

import nbrun
from tests.support.browser import load_page
from tests.support.load import within
from tests.support.notebooks import ROOT, make_notebook
from tests.support.plugin_projects import project, run_pytest, write_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = str(Path(sys.executable).parent / "nbrun")
JUNIT_SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "support" / "schemas" / "junit.xsd")))
RECORDS = (
    "from nbrun import record\nimport sys\n"
    "record('accuracy', 0.91)\nrecord('region', region)\nrecord('counts', {'rows': 3, 'ok': True})\n"
    "print(sorted(name for name in sys.modules if name.startswith('nbrun')))"
)


def nbrun_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NBRUN, *args], capture_output=True, text=True, cwd=cwd, timeout=within(180))


def report_notebook(path: Path, *, expect: Any = None) -> Path:
    nb = make_notebook(("region = 'north'", ["parameters"]), RECORDS, "import scrapbook as sb\nsb.glue('loss', 0.25)")
    if expect is not None:
        nb.metadata["nbrun"] = {"expect": expect}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("values")
    source = report_notebook(folder / "model.ipynb")
    proc = nbrun_cli(
        "run", str(source), "-o", "out.ipynb", "-p", "region", "south", "--json", "r.json", "--junit-xml", "j.xml",
        "--events", "ev.jsonl", "--report", "page.html", "--html", "--expect", "accuracy >= 0.88", cwd=folder,
    )  # fmt: skip
    return folder, proc


def test_values_are_read_by_scrapbook_and_nbrun_reads_scrapbooks(reported: tuple[Path, Any]) -> None:
    folder, proc = reported
    assert proc.returncode == 0, proc.stderr
    import scrapbook

    scraps = scrapbook.read_notebook(str(folder / "out.ipynb")).scraps
    assert {name: scrap.data for name, scrap in scraps.items()} == {
        "accuracy": 0.91,
        "region": "south",
        "counts": {"rows": 3, "ok": True},
        "loss": 0.25,
    }
    expected = {"accuracy": 0.91, "region": "south", "counts": {"rows": 3, "ok": True}, "loss": 0.25}
    assert nbrun.read_results(folder / "out.ipynb") == expected
    assert nbrun.read_results(folder / "r.json") == {str(folder / "model.ipynb"): expected}
    written = nbformat.read(folder / "out.ipynb", 4)
    imported = "".join(written.cells[2].outputs[-1]["text"])  # the kernel loaded record's module only
    assert imported == "['nbrun', 'nbrun.values', 'nbrun.values.recording', 'nbrun.version']\n"


def test_values_in_json_junit_events_and_pages(reported: tuple[Path, Any]) -> None:
    folder, _ = reported
    record = json.loads((folder / "r.json").read_text())["notebooks"][0]
    assert record["values"]["accuracy"] == {"value": 0.91, "cell": 2}
    assert record["values"]["loss"] == {"value": 0.25, "cell": 3}
    assert record["expectations"] == [{"expect": "accuracy >= 0.88", "passed": True, "seen": {"accuracy": 0.91}}]
    junit = etree.parse(str(folder / "j.xml"))
    JUNIT_SCHEMA.assertValid(junit)
    properties = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert properties == {"accuracy": "0.91", "region": "south", "counts": '{"rows": 3, "ok": true}', "loss": "0.25"}
    events = [json.loads(line) for line in (folder / "ev.jsonl").read_text().splitlines()]
    end = next(event for event in events if event["event"] == "notebook-end")
    assert end["values"] == record["values"] and end["expectations"] == record["expectations"]
    banner = (folder / "out.html").read_text()
    assert "Recorded values" in banner and "accuracy = 0.91" in banner
    page = load_page(folder / "page.html")
    assert "accuracy = 0.91" in page.dom and "4 values" in page.dom


def test_papermill_metadata_as_papermill_writes_it(reported: tuple[Path, Any]) -> None:
    folder, _ = reported
    written = nbformat.read(folder / "out.ipynb", 4)
    meta = written.metadata.papermill
    assert set(meta) >= {"parameters", "environment_variables", "version", "start_time", "end_time", "duration"}
    assert meta["parameters"] == {"region": "south"} and meta["environment_variables"] == {}
    assert meta["exception"] is None and meta["duration"] >= 0
    record = json.loads((folder / "r.json").read_text())["notebooks"][0]
    for index, cell in enumerate(written.cells):
        entry = cell.metadata.papermill
        assert entry["status"] == "completed" and entry["exception"] is False
        assert entry["duration"] == record["cells"][index]["duration"]  # one figure everywhere
    import papermill
    import scrapbook

    assert scrapbook.read_notebook(str(folder / "out.ipynb")).parameters == {"region": "south"}
    assert "region" in papermill.inspect_notebook(str(folder / "out.ipynb"))


def test_a_failed_cell_is_marked_as_papermill_marks_it(tmp_path: Path) -> None:
    nbformat.write(make_notebook("x = 1", "1/0", "print('never')"), tmp_path / "nb.ipynb")
    proc = nbrun_cli("run", str(tmp_path / "nb.ipynb"))
    assert proc.returncode == 1
    written = nbformat.read(tmp_path / "nb.ipynb", 4)
    assert [cell.metadata.papermill["status"] for cell in written.cells] == ["completed", "failed", "pending"]
    assert written.cells[1].metadata.papermill["exception"] is True and written.metadata.papermill["exception"] is True


def test_record_refuses_what_is_not_json(tmp_path: Path) -> None:
    nbformat.write(
        make_notebook("from nbrun import record\nrecord('when', object())", "record('nan', float('nan'))"),
        tmp_path / "nb.ipynb",
    )
    proc = nbrun_cli("run", str(tmp_path / "nb.ipynb"), "--allow-errors")
    assert proc.returncode == 0, proc.stderr
    errors = [cell.outputs[-1] for cell in nbformat.read(tmp_path / "nb.ipynb", 4).cells]
    assert [error["ename"] for error in errors] == ["RecordError", "RecordError"]
    assert "not JSON-serialisable" in errors[0]["evalue"] and "NaN and infinity are not JSON" in errors[1]["evalue"]


def test_a_failing_expectation_is_exit_7_naming_it_and_the_value(tmp_path: Path) -> None:
    source = report_notebook(tmp_path / "model.ipynb", expect=["loss < 0.1"])
    proc = nbrun_cli(
        "run", str(source), "--expect", "accuracy >= 0.95", "--expect", "missing > 1", "--json", "r.json", cwd=tmp_path
    )
    assert proc.returncode == 7, proc.stderr
    assert "expectation 'accuracy >= 0.95' failed: accuracy is 0.91 (and 2 more)" in proc.stderr
    record = json.loads((tmp_path / "r.json").read_text())["notebooks"][0]
    assert record["status"] == "expectation-failed" and record["exit_code"] == 7
    messages = [verdict.get("message") for verdict in record["expectations"]]
    assert "expectation 'missing > 1' names missing, which the notebook never recorded" in messages[1]
    assert messages[2] == "expectation 'loss < 0.1' failed: loss is 0.25"
    assert nbformat.read(source, 4).metadata.nbrun["expect"] == ["loss < 0.1"]  # the declaration stays


def test_a_bad_expectation_is_exit_2_before_any_kernel(tmp_path: Path) -> None:
    source = report_notebook(tmp_path / "model.ipynb")
    before = source.read_bytes()
    proc = nbrun_cli("run", str(source), "--expect", "__import__('os').system('true')")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--expect" in proc.stderr, proc.stderr
    assert source.read_bytes() == before
    report_notebook(source, expect="accuracy >>= 1")
    declared = nbrun_cli("run", str(source))
    assert declared.returncode == 2 and "expectation 'accuracy >>= 1'" in declared.stderr, declared.stderr
    assert "Traceback" not in declared.stderr


def test_a_grid_checks_each_output_and_the_cache_checks_replays_again(tmp_path: Path) -> None:
    source = tmp_path / "grid.ipynb"
    nbformat.write(make_notebook(("n = 1", ["parameters"]), "from nbrun import record\nrecord('n2', n * n)"), source)
    (tmp_path / "grid.yaml").write_text("- {n: 2}\n- {n: 5}\n")
    args = ("run", str(source), "--params-grid", "grid.yaml", "-o", "out/{n}.ipynb", "--cache", "c", "--json", "-")
    first = nbrun_cli(*args, "--expect", "n2 < 10", cwd=tmp_path)
    assert first.returncode == 7, first.stderr
    statuses = {Path(nb["output"]).name: nb["status"] for nb in json.loads(first.stdout)["notebooks"]}
    assert statuses == {"2.ipynb": "ok", "5.ipynb": "expectation-failed"}
    replayed = nbrun_cli(*args, "--expect", "n2 < 30", cwd=tmp_path)  # the same runs, another expectation
    notebooks = json.loads(replayed.stdout)["notebooks"]
    assert replayed.returncode == 0 and all(nb["cached"] for nb in notebooks), replayed.stderr
    again = nbrun_cli(*args, "--expect", "n2 < 3", cwd=tmp_path)
    assert again.returncode == 7 and all(nb["cached"] for nb in json.loads(again.stdout)["notebooks"])


def test_pytest_fails_a_notebook_whose_expectation_fails(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    write_notebook(
        root / "good.ipynb",
        "from nbrun import record\nrecord('accuracy', 0.91)",
        metadata={"nbrun": {"expect": "accuracy > 0.9"}},
    )
    write_notebook(
        root / "bad.ipynb",
        "from nbrun import record\nrecord('accuracy', 0.85)",
        metadata={"nbrun": {"expect": "accuracy > 0.9"}},
    )
    run = run_pytest(root, "--nbrun")
    assert run.cases["good.ipynb"].outcome == "passed", run.output
    assert run.cases["bad.ipynb"].outcome == "failed"
    assert "expectation 'accuracy > 0.9' failed: accuracy is 0.85" in run.cases["bad.ipynb"].message, run.output


def test_importing_record_loads_nothing_else_of_nbrun() -> None:
    """``from nbrun import record`` in a fresh interpreter loads none of the rest of nbrun (the version is one line)."""
    code = "from nbrun import record; import sys; print(sorted(m for m in sys.modules if m.startswith('nbrun')))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), timeout=60
    )
    assert proc.stdout.strip() == "['nbrun', 'nbrun.values', 'nbrun.values.recording', 'nbrun.version']"
