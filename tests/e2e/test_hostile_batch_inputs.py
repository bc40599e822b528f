"""Batch inputs that used to sink a whole run: huge integers, non-UTF-8 names, one unwritable report, HTTP errors.

Through the installed ``nbrun`` command, with real kernels where a notebook runs.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import nbformat
import pytest

from tests.support.notebooks import ROOT, make_notebook

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
NBRUN = str(Path(sys.executable).parent / "nbrun")
RECORD_SCHEMA = json.loads((ROOT / "nbrun" / "schemas" / "run-record.schema.json").read_text())
EVENTS_SCHEMA = json.loads((ROOT / "nbrun" / "schemas" / "events.schema.json").read_text())


def nbrun(*args: str | bytes, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)  # nbconvert's templates also where the base interpreter keeps them (a venv's --html)
    env["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [env.get("JUPYTER_PATH"), os.path.join(sys.base_prefix, "share", "jupyter")])
    )
    proc = subprocess.run([NBRUN, "run", *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("nbrun: error:")]


# --- an integer beyond Python's digit limit ------------------------------------------------------------------


@pytest.mark.kernel
def test_an_integer_of_5000_digits_is_that_notebooks_read_error_and_the_rest_runs(tmp_path: Path) -> None:
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(make_notebook("print('still ran')"), folder / "good.ipynb")
    text = nbformat.writes(make_notebook("1")).replace(
        '"metadata": {', '"metadata": {\n  "huge": ' + "7" * 5000 + ",", 1
    )
    (folder / "huge.ipynb").write_text(text)

    proc = nbrun(str(folder), "--json", str(tmp_path / "run.json"), "--junit-xml", str(tmp_path / "j.xml"))
    assert proc.returncode == 5, proc.stderr
    assert error_lines(proc.stderr) == [
        f"nbrun: error: {folder / 'huge.ipynb'}: not valid JSON "
        f"(an integer has more than {sys.get_int_max_str_digits()} digits)"
    ]
    assert nbformat.read(folder / "good.ipynb", 4).cells[0].outputs[0].text == "still ran\n"
    record = json.loads((tmp_path / "run.json").read_text())
    jsonschema.validate(record, RECORD_SCHEMA)
    by_name = {Path(notebook["input"]).name: notebook for notebook in record["notebooks"]}
    assert by_name["huge.ipynb"]["status"] == "invalid" and by_name["huge.ipynb"]["exit_code"] == 5
    assert by_name["good.ipynb"]["status"] == "ok"
    cases = {case.get("name"): case for case in ET.parse(tmp_path / "j.xml").iter("testcase")}
    assert cases["huge.ipynb"].find("error") is not None
    assert cases["good.ipynb"].find("error") is None and cases["good.ipynb"].find("failure") is None


def test_nbrun_report_of_a_record_holding_a_huge_integer_is_one_line(tmp_path: Path) -> None:
    record = tmp_path / "run.json"
    record.write_text('{"notebooks": [], "duration": ' + "1" * 5000 + "}")
    proc = subprocess.run(
        [NBRUN, "report", str(record), "-o", str(tmp_path / "r.html")], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 5 and "Traceback" not in proc.stderr
    assert error_lines(proc.stderr) == [line for line in proc.stderr.splitlines() if line.strip()]
    assert error_lines(proc.stderr)[0].startswith(f"nbrun: error: {record}: not a JSON run record")


# --- a file name that is not valid UTF-8 ---------------------------------------------------------------------


@pytest.mark.kernel
def test_a_name_that_is_not_utf8_runs_and_every_report_shows_it_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "nbs"
    folder.mkdir()
    bad = os.fsencode(folder) + b"/bad\xff.ipynb"
    with open(bad, "w", encoding="utf-8") as handle:
        handle.write(nbformat.writes(make_notebook("print('odd name')")))
    nbformat.write(make_notebook("print('plain name')"), folder / "plain.ipynb")
    shown = f"{folder}/bad\\xff.ipynb"  # the undecodable byte, written as backslash-x-f-f

    proc = nbrun(
        str(folder),
        "--json",
        str(tmp_path / "run.json"),
        "--junit-xml",
        str(tmp_path / "j.xml"),
        "--events",
        str(tmp_path / "events.jsonl"),
        "--report",
        str(tmp_path / "run.html"),
        "--html",
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        nbformat.reads(Path(os.fsdecode(bad)).read_text(encoding="utf-8"), 4).cells[0].outputs[0].text == "odd name\n"
    )
    assert sorted(os.listdir(os.fsencode(folder))) == [b"bad\xff.html", b"bad\xff.ipynb", b"plain.html", b"plain.ipynb"]
    assert f"nbrun: ok {shown} " in proc.stderr and "\\udcff" not in proc.stderr  # the line and the summary
    assert proc.stderr.count(shown) == 2

    record = json.loads((tmp_path / "run.json").read_bytes().decode("utf-8"))
    jsonschema.validate(record, RECORD_SCHEMA)
    assert [notebook["input"] for notebook in record["notebooks"]] == [shown, str(folder / "plain.ipynb")]
    assert record["notebooks"][0]["output"] == shown and record["exit_code"] == 0
    cases = list(ET.parse(tmp_path / "j.xml").iter("testcase"))
    assert [case.get("name") for case in cases] == ["bad\\xff.ipynb", "plain.ipynb"]
    assert cases[0].get("file") == shown
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_bytes().decode("utf-8").splitlines()]
    for event in events:
        jsonschema.validate(event, EVENTS_SCHEMA)
    assert {event["notebook"] for event in events if event["event"] == "notebook-start"} == {
        shown,
        str(folder / "plain.ipynb"),
    }
    assert "bad\\xff.ipynb" in (tmp_path / "run.html").read_bytes().decode("utf-8")
    with open(os.fsencode(folder) + b"/bad\xff.html", encoding="utf-8") as handle:
        assert "<title>bad\\xff</title>" in handle.read()

    direct = nbrun(bad, "--json", "-")  # named on the command line, the record on stdout
    assert direct.returncode == 0, direct.stderr
    assert json.loads(direct.stdout)["notebooks"][0]["input"] == shown


# --- one report that cannot be written -----------------------------------------------------------------------


@pytest.mark.kernel
def test_an_unwritable_report_is_one_line_and_the_others_are_still_written(tmp_path: Path) -> None:
    nbformat.write(make_notebook("1 + 1"), tmp_path / "nb.ipynb")
    (tmp_path / "afile").write_text("a regular file, not a folder")
    proc = nbrun(
        "nb.ipynb", "--junit-xml", "afile/j.xml", "--json", "good/run.json", "--report", "good/r.html", cwd=tmp_path
    )
    assert proc.returncode == 5, proc.stderr
    assert len(error_lines(proc.stderr)) == 1 and error_lines(proc.stderr)[0].startswith("nbrun: error: afile/j.xml: ")
    assert json.loads((tmp_path / "good" / "run.json").read_text())["notebooks"][0]["status"] == "ok"
    assert "nb.ipynb" in (tmp_path / "good" / "r.html").read_text()

    every = nbrun(
        "nb.ipynb", "--junit-xml", "afile/j.xml", "--json", "afile/run.json", "--report", "afile/r.html", cwd=tmp_path
    )
    assert every.returncode == 5
    assert [line.split(":")[2].strip() for line in error_lines(every.stderr)] == [
        "afile/j.xml",
        "afile/run.json",
        "afile/r.html",
    ]


# --- a URL notebook the server refuses -----------------------------------------------------------------------


class _StatusHandler(http.server.SimpleHTTPRequestHandler):
    """``/status/<code>/…`` answers with that code; anything else is served from the folder."""

    requested: list[str] = []

    def do_GET(self) -> None:
        self.requested.append(self.path)
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if parts[0] == "status":
            self.send_error(int(parts[1]))
            return
        super().do_GET()

    do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "served"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_StatusHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_an_http_error_answer_says_its_status(http_root: tuple[str, Path]) -> None:
    url, _ = http_root
    for code, said in [
        (403, "cannot read: access denied (HTTP 403 Forbidden)"),
        (500, "cannot read: HTTP 500 Internal Server Error"),
        (503, "cannot read: HTTP 503 Service Unavailable"),
    ]:
        proc = nbrun(f"{url}/status/{code}/x.ipynb?token=s3cr3t")
        assert proc.returncode == 5, proc.stderr
        assert proc.stderr.strip() == f"nbrun: error: {url}/status/{code}/x.ipynb: {said}"
    missing = nbrun(f"{url}/status/404/x.ipynb?raw=1")  # a query string is not a glob pattern
    assert missing.returncode == 5
    assert missing.stderr.strip() == f"nbrun: error: {url}/status/404/x.ipynb: no such object (HTTP 404 Not Found)"


@pytest.mark.kernel
def test_an_http_notebook_with_a_query_string_runs(http_root: tuple[str, Path], tmp_path: Path) -> None:
    url, root = http_root
    nbformat.write(make_notebook("print('served')"), root / "nb.ipynb")
    proc = nbrun(f"{url}/nb.ipynb?raw=1", "-o", str(tmp_path / "out.ipynb"))
    assert proc.returncode == 0, proc.stderr
    assert nbformat.read(tmp_path / "out.ipynb", 4).cells[0].outputs[0].text == "served\n"
    assert "/nb.ipynb?raw=1" in _StatusHandler.requested  # the query string reached the server (a signed URL's)
