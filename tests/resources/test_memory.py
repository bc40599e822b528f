"""Memory and CPU measured, limited and told, through the installed command and real kernels (issue 26)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nbrun.kernel.memory_cgroup import MemoryLimitGroup
from tests.support.load import within
from tests.support.notebooks import make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
BIN = Path(sys.executable).parent
NBRUN = str(BIN / "nbrun")
MiB = 2**20
ALLOCATES = "block = b'x' * (500 * 2**20)  # 500 MB, every page touched"


def nbrun_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **(env or {})}
    return subprocess.run([NBRUN, *args], capture_output=True, text=True, cwd=cwd, env=environ, timeout=within(180))


@pytest.mark.parametrize("cgroup", ["1", "0"], ids=["cgroup-where-possible", "sampler"])
def test_a_notebook_over_max_memory_is_out_of_memory_and_the_batch_goes_on(tmp_path: Path, cgroup: str) -> None:
    nbformat.write(make_notebook("x = 1", ALLOCATES, "print('never')"), tmp_path / "heavy.ipynb")
    nbformat.write(make_notebook("print('light')"), tmp_path / "light.ipynb")
    done = nbrun_cli(
        "run", "heavy.ipynb", "light.ipynb", "--output-dir", "out", "-j", "2", "--max-memory", "300M",
        "--json", "run.json", "--events", "events.jsonl", cwd=tmp_path, env={"NBRUN_MEMORY_CGROUP": cgroup},
    )  # fmt: skip
    assert done.returncode == 8, done.stderr
    record = {nb["input"]: nb for nb in json.loads((tmp_path / "run.json").read_text())["notebooks"]}
    heavy, light = record["heavy.ipynb"], record["light.ipynb"]
    assert (heavy["status"], heavy["exit_code"], light["status"]) == ("out-of-memory", 8, "ok")
    assert heavy["message"].startswith("cell 2 (index 1") and "ran out of memory" in heavy["message"]
    assert "300 MiB (--max-memory)" in heavy["message"] and "peak" in heavy["message"]
    assert heavy["cells"][1]["status"] == "out-of-memory" and heavy["cells"][2]["status"] == "not-run"
    written = nbformat.read(tmp_path / "out" / "heavy.ipynb", as_version=4)  # the partial notebook
    assert written.metadata["nbrun"]["status"] == "out-of-memory"
    assert "[nbrun] ran out of memory" in written.cells[1].outputs[-1]["evalue"]
    assert "out of memory" in done.stderr and "light.ipynb" in done.stderr
    if cgroup == "0":
        assert "the kernel was interrupted" in heavy["message"]


def test_the_peak_of_a_500_mb_cell_agrees_with_the_kernels_max_rss(tmp_path: Path) -> None:
    """The figure /usr/bin/time -v prints: the largest waited-for process's maximum RSS (wait4's rusage)."""
    nbformat.write(make_notebook("x = 1", ALLOCATES, "del block"), tmp_path / "alloc.ipynb")
    peer = subprocess.Popen([str(BIN / "jupyter"), "execute", "alloc.ipynb", "--output", "peer.ipynb"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(peer.pid, 0)
    peer.returncode = os.waitstatus_to_exitcode(status)
    assert peer.returncode == 0
    time_v = usage.ru_maxrss * 1024  # kilobytes on Linux
    done = nbrun_cli(
        "run", "alloc.ipynb", "-o", "out.ipynb", "--json", "run.json", "--events", "events.jsonl", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    notebook = json.loads((tmp_path / "run.json").read_text())["notebooks"][0]
    assert abs(notebook["peak_memory"] - time_v) <= 0.1 * time_v, (notebook["peak_memory"] // MiB, time_v // MiB)
    cells = notebook["cells"]
    assert cells[1]["peak_memory"] >= 500 * MiB > cells[0]["peak_memory"]
    assert cells[1]["cpu_time"] > 0 and notebook["cpu_time"] == round(sum(cell["cpu_time"] for cell in cells), 3)
    written = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert written.cells[1].metadata["nbrun"]["peak_memory"] == cells[1]["peak_memory"]
    assert written.metadata["nbrun"]["peak_memory"] == notebook["peak_memory"]
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    ends = [event for event in events if event["event"] == "cell-end"]
    assert [event["peak_memory"] for event in ends] == [cell["peak_memory"] for cell in cells]
    assert [event["peak_memory"] for event in events if event["event"] == "notebook-end"] == [notebook["peak_memory"]]


def test_the_system_oom_killer_is_told_as_out_of_memory(tmp_path: Path) -> None:
    """nbrun itself runs in a cgroup limited to 400 MB, with no --max-memory: the OS kills the kernel."""
    nbformat.write(make_notebook("x = 1", ALLOCATES.replace("500", "900"), "print('never')"), tmp_path / "oom.ipynb")
    waiting = subprocess.Popen(  # a shell that waits to be put in the group, then becomes nbrun
        ["sh", "-c", f"read go && exec {NBRUN} run oom.ipynb --json run.json"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    limited = MemoryLimitGroup.create(waiting.pid, 400 * MiB)
    if limited is None:
        waiting.kill()
        waiting.wait()
        pytest.skip("this machine lets nbrun make no memory cgroup (not root, or no memory controller)")
    try:
        _, stderr = waiting.communicate("go\n", timeout=within(180))
    finally:
        limited.close()
    assert waiting.returncode == 8, stderr
    notebook = json.loads((tmp_path / "run.json").read_text())["notebooks"][0]
    assert notebook["status"] == "out-of-memory"
    assert "the system's OOM killer ended the kernel" in notebook["message"]


def test_auto_jobs_start_fewer_kernels_after_a_memory_heavy_run(tmp_path: Path) -> None:
    for name in ("a", "b"):
        nbformat.write(make_notebook("import time\ntime.sleep(0.3)"), tmp_path / f"{name}.ipynb")
    heavy = {"cwd": str(tmp_path), "notebooks": [{"input": f"{name}.ipynb", "peak_memory": 1 << 50} for name in "ab"]}
    (tmp_path / "before.json").write_text(json.dumps(heavy))
    done = nbrun_cli(
        "run", "a.ipynb", "b.ipynb", "-j", "auto", "--durations", "before.json", "--events", "e.jsonl", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "-j auto: 1 job, not" in done.stderr or (os.cpu_count() or 1) == 1
    events = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    running = [
        (event["event"], event["notebook"]) for event in events if event["event"] in ("cell-start", "notebook-end")
    ]
    assert running == [
        ("cell-start", "a.ipynb"),
        ("notebook-end", "a.ipynb"),
        ("cell-start", "b.ipynb"),
        ("notebook-end", "b.ipynb"),
    ]


def test_shards_from_the_command_line_and_their_records_on_one_page(tmp_path: Path) -> None:
    for number in range(6):
        nbformat.write(make_notebook(f"print({number})"), tmp_path / f"nb{number}.ipynb")
    records = []
    for index in (1, 2, 3):
        done = nbrun_cli(
            "run", ".", "--output-dir", "out", "--shard", f"{index}/3", "--json", f"s{index}.json", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert f"shard {index}/3:" in done.stderr and "balanced by path" in done.stderr
        records.append(json.loads((tmp_path / f"s{index}.json").read_text()))
    ran = [nb["input"] for record in records for nb in record["notebooks"]]
    assert sorted(ran) == [f"nb{number}.ipynb" for number in range(6)]
    page = nbrun_cli("report", "s1.json", "s2.json", "s3.json", "-o", "page.html", cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    html = (tmp_path / "page.html").read_text()
    assert all(f"nb{number}.ipynb" in html for number in range(6)) and "Cell peak memory" in html
