"""One time figure per notebook, the same in the line, the table, JSON, JUnit and events; no queue wait in it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from tests.support.notebooks import make_notebook

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
NBRUN = str(Path(sys.executable).parent / "nbrun")
SLOW = 8


def test_a_queued_notebook_is_timed_from_its_slot_and_every_output_says_the_same(tmp_path: Path) -> None:
    nbformat.write(make_notebook(f"import time\ntime.sleep({SLOW})"), tmp_path / "a_slow.ipynb")
    nbformat.write(make_notebook("1 + 1"), tmp_path / "b_quick.ipynb")
    nbformat.write(make_notebook("1/0"), tmp_path / "c_fails.ipynb")
    nbformat.write(make_notebook("1"), tmp_path / "d_skipped.ipynb")
    events = tmp_path.parent / f"{tmp_path.name}-events.jsonl"
    proc = subprocess.run(
        [NBRUN, "run", "a_slow.ipynb", "b_quick.ipynb", "c_fails.ipynb", "d_skipped.ipynb", "--fail-fast"]
        + ["--json", "r.json", "--junit-xml", "j.xml", "--events", str(events)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    record = {Path(n["input"]).name: n for n in json.loads((tmp_path / "r.json").read_text())["notebooks"]}
    junit = {case.get("name"): float(case.get("time", "nan")) for case in ET.parse(tmp_path / "j.xml").iter("testcase")}
    ended = {
        Path(e["notebook"]).name: e["duration"]
        for e in map(json.loads, events.read_text().splitlines())
        if e["event"] == "notebook-end"
    }
    # b's kernel booted ahead and waited while a slept: that wait is not b's time
    assert record["b_quick.ipynb"]["duration"] < SLOW, record["b_quick.ipynb"]
    line = re.search(r"nbrun: ok b_quick\.ipynb \(1 cell, ([0-9.]+) s\)", proc.stderr)
    assert line is not None, proc.stderr
    table = re.search(r"^b_quick\.ipynb\s+ok\s+([0-9.]+)s", proc.stderr, re.M)
    assert table is not None, proc.stderr
    for name in ("a_slow.ipynb", "b_quick.ipynb", "c_fails.ipynb"):
        seconds = record[name]["duration"]
        assert ended[name] == seconds and abs(junit[name] - seconds) < 0.001, name
    assert float(line.group(1)) == float(table.group(1)) == round(record["b_quick.ipynb"]["duration"], 2)
    # a skipped notebook shows no time anywhere
    assert record["d_skipped.ipynb"]["status"] == "skipped" and record["d_skipped.ipynb"]["duration"] is None
    assert ended["d_skipped.ipynb"] is None and junit["d_skipped.ipynb"] == 0
    assert re.search(r"^d_skipped\.ipynb\s+skipped\s+-\s", proc.stderr, re.M), proc.stderr
