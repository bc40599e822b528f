"""Many notebooks at once: discovery, -j, summary, JUnit and JSON reports, interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import nbformat
import pytest
from lxml import etree

from tests.support.load import within
from tests.support.notebooks import ROOT, make_notebook
from tests.support.procs import kernel_pids, wait_gone

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = [sys.executable, "-m", "nbrun.cli", "run"]
RECORD_SCHEMA = json.loads((ROOT / "nbrun" / "schemas" / "run-record.schema.json").read_text())
JUNIT_SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "support" / "schemas" / "junit.xsd")))

KINDS = {
    "ok": ("x = {i}\nprint('notebook {i}')", "x * 2"),
    "error": ("print('about to fail')", "1/0"),
    "timeout": ("import time\ntime.sleep(30)",),
    "died": ("import os\nos._exit(7)",),
}
EXPECTED = {
    "ok": ("ok", 0),
    "error": ("error", 1),
    "timeout": ("timeout", 3),
    "died": ("kernel-died", 4),
    "invalid": ("invalid", 5),
}


def build_corpus(root: Path, count: int = 30) -> dict[Path, str]:
    """count notebooks in nested folders: mostly ok, some failing in each way."""
    plan: dict[Path, str] = {}
    failing = {3: "error", 8: "timeout", 12: "died", 17: "error", 21: "invalid", 26: "error", 29: "timeout"}
    for i in range(count):
        kind = failing.get(i, "ok")
        folder = root / f"group{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"nb{i:02d}.ipynb"
        if kind == "invalid":
            path.write_text("{ not a notebook")
        else:
            nbformat.write(make_notebook(*(s.format(i=i) for s in KINDS[kind])), path)
        plan[path] = kind
    return plan


def run_cli(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NBRUN, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else {**os.environ, **env},
    )


def test_thirty_notebooks_four_at_a_time(tmp_path: Path) -> None:
    corpus = build_corpus(tmp_path / "in")
    out = tmp_path / "out"
    started = time.monotonic()
    proc = run_cli(
        str(tmp_path / "in"),
        "-j",
        "4",
        "--timeout",
        "10",
        "--interrupt-grace",
        "2",
        "--output-dir",
        str(out),
        "--junit-xml",
        str(tmp_path / "junit.xml"),
        "--json",
        str(tmp_path / "run.json"),
    )
    elapsed = time.monotonic() - started
    order = sorted(corpus)  # discovery order: folders then files, sorted
    first_failure = next(corpus[p] for p in order if corpus[p] != "ok")
    assert proc.returncode == EXPECTED[first_failure][1], proc.stderr
    record = json.loads((tmp_path / "run.json").read_text())
    jsonschema.validate(record, RECORD_SCHEMA)
    by_input = {Path(n["input"]): n for n in record["notebooks"]}
    assert set(by_input) == set(corpus)
    junit = etree.parse(str(tmp_path / "junit.xml"))
    JUNIT_SCHEMA.assertValid(junit)
    cases = {(c.get("classname"), c.get("name")): c for c in junit.iter("testcase")}
    assert len(cases) == 30
    for path, kind in corpus.items():
        status, code = EXPECTED[kind]
        entry = by_input[path]
        assert (entry["status"], entry["exit_code"]) == (status, code), path
        case = cases[(path.parent.as_posix().strip("./").replace("/", "."), path.name)]
        tags = [child.tag for child in case]
        if kind == "ok":
            assert "failure" not in tags and "error" not in tags
            assert f"notebook {path.stem[2:].lstrip('0') or '0'}" in case.findtext("system-out")
        elif kind in ("error", "timeout"):
            assert "failure" in tags
        else:
            assert "error" in tags
        written = out / path.relative_to(tmp_path / "in")
        if kind == "invalid":
            assert not written.exists()
            continue
        assert nbformat.read(written, 4).metadata.nbrun["status"] == status
        assert path.stat().st_size > 0
    failure = next(
        c
        for c in junit.iter("testcase")
        if c.find("failure") is not None and c.find("failure").get("type") == "ZeroDivisionError"
    )
    assert failure.find("failure").get("message") == "ZeroDivisionError: division by zero"
    assert "1/0" in failure.findtext("failure") and "\x1b" not in failure.findtext("failure")
    assert "30 notebooks:" in proc.stderr and "nb21.ipynb" in proc.stderr
    assert sum(record["totals"].values()) == 30
    print(f"\n30 notebooks with -j 4: {elapsed:.1f} s")


def test_discovery_skips_hidden_and_checkpoints_and_honours_exclude(tmp_path: Path) -> None:
    for relative in (
        "a.ipynb",
        "sub/b.ipynb",
        ".hidden/c.ipynb",
        "sub/.ipynb_checkpoints/b-checkpoint.ipynb",
        "skip_me/d.ipynb",
    ):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_notebook("1"), path)
    proc = run_cli(str(tmp_path), "--exclude", "skip_me", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    ran = sorted(Path(n["input"]).relative_to(tmp_path).as_posix() for n in json.loads(proc.stdout)["notebooks"])
    assert ran == ["a.ipynb", "sub/b.ipynb"]
    glob_proc = run_cli(str(tmp_path / "**" / "*.ipynb"), "--json", "-")
    assert sorted(Path(n["input"]).name for n in json.loads(glob_proc.stdout)["notebooks"]) == [
        "a.ipynb",
        "b.ipynb",
        "d.ipynb",
    ]


def test_fail_fast_starts_nothing_after_a_failure(tmp_path: Path) -> None:
    for i in range(4):
        nbformat.write(make_notebook("1/0" if i == 0 else "1"), tmp_path / f"n{i}.ipynb")
    proc = run_cli(str(tmp_path), "--fail-fast", "--json", "-")
    assert proc.returncode == 1
    statuses = [n["status"] for n in json.loads(proc.stdout)["notebooks"]]
    assert statuses == ["error", "skipped", "skipped", "skipped"]


def test_interrupting_a_batch_writes_every_partial_notebook(tmp_path: Path) -> None:
    for i in range(4):
        nbformat.write(
            make_notebook(f"print('started {i}', flush=True)", "import time\ntime.sleep(60)", "print('never')"),
            tmp_path / f"s{i}.ipynb",
        )
    events = tmp_path.parent / f"{tmp_path.name}-events.jsonl"  # outside the folder being run
    before = kernel_pids()
    proc = subprocess.Popen(
        [*NBRUN, str(tmp_path), "-j", "2", "--json", str(tmp_path / "run.json"), "--events", str(events)],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + within(60)

    def sleeping() -> int:  # notebooks whose sleep cell has been sent (a fork template is a kernel too)
        lines = events.read_text().splitlines() if events.exists() else []
        return sum('"cell-start"' in line and '"index": 1' in line for line in lines)

    while sleeping() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sleeping() == 2
    running = kernel_pids() - before
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert not wait_gone(running)
    statuses = {
        Path(n["input"]).name: n["status"] for n in json.loads((tmp_path / "run.json").read_text())["notebooks"]
    }
    assert sorted(statuses.values()) == ["interrupted", "interrupted", "skipped", "skipped"]
    for name, status in statuses.items():
        nb = nbformat.read(tmp_path / name, 4)
        if status == "interrupted":
            assert nb.metadata.nbrun["status"] == "interrupted"
            assert nb.cells[0].outputs[0].text.startswith("started")
            assert nb.cells[2].metadata.nbrun["status"] == "not-run"
        else:
            assert "nbrun" not in nb.metadata  # never started: left untouched
    assert "interrupted" in stderr


@pytest.mark.slow
def test_load_two_hundred_tiny_notebooks_eight_at_a_time(tmp_path: Path) -> None:
    for i in range(200):
        nbformat.write(make_notebook(f"x = {i}"), tmp_path / f"t{i:03d}.ipynb")
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    started = time.monotonic()
    proc = run_cli(
        str(tmp_path), "-j", "8", "--json", str(tmp_path / "run.json"), timeout=600, env={"TMPDIR": str(private_tmp)}
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["totals"] == {"ok": 200}
    assert list(private_tmp.iterdir()) == []  # every kernel's folder, sockets included, is gone
    print(f"\n200 tiny notebooks with -j 8: {elapsed:.1f} s ({200 / elapsed:.1f} notebooks/s)")
