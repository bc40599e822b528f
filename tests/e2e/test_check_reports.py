"""nbrun check takes run's --report and --events; the flags it does not take are named in the docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import nbrun
from tests.support.notebooks import ROOT, make_notebook

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
NBRUN = str(Path(sys.executable).parent / "nbrun")


def test_check_writes_the_run_page_and_the_event_stream(tmp_path: Path) -> None:
    executed = nbrun.execute(make_notebook("print('same')"))
    (tmp_path / "nb.ipynb").write_text(json.dumps(executed.notebook))
    events = tmp_path.parent / f"{tmp_path.name}-events.jsonl"
    proc = subprocess.run(
        [NBRUN, "check", "nb.ipynb", "--report", "page.html", "--events", str(events)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "nb.ipynb" in (tmp_path / "page.html").read_text()
    kinds = [json.loads(line)["event"] for line in events.read_text().splitlines()]
    assert kinds[0] == "run-start" and "notebook-end" in kinds and kinds[-1] == "run-end"


def test_the_docs_name_every_flag_check_takes() -> None:
    from nbrun.cli import main

    check = main.commands["check"]
    page = (ROOT / "docs" / "guide" / "checks.md").read_text()
    own = {
        "--update",
        "--lax",
        "--require-outputs",
        "--sanitize-with",
        "--no-sanitize",
        "--compare-images",
        "--image-tolerance",
        "--help",
    }
    for param in check.params:
        flags = [opt for opt in param.opts if opt.startswith("--")]
        if flags and flags[0] not in own:
            assert f"`{flags[0]}`" in page or any(f"`{o}`" in page for o in param.opts), flags
