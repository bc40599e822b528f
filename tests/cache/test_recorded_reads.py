"""The cache records what each notebook read, touched and reached (issue 23), through the installed command.

Nothing here declares an input: the recorder in the kernel must see it.
"""

from __future__ import annotations

import csv
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.support.load import within
from tests.support.notebooks import SAMPLES, make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = str(Path(sys.executable).parent / "nbrun")


def nbrun(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NBRUN, *args], capture_output=True, text=True, env=env or dict(os.environ), cwd=cwd, timeout=within(180)
    )


def run(notebook: Path, cache: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """``nbrun run NOTEBOOK --cache CACHE --json -``: the notebook's record, with the command's stderr."""
    proc = nbrun("run", str(notebook), "--cache", str(cache), "--json", "-", *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    record: dict[str, Any] = json.loads(proc.stdout)["notebooks"][0]
    record["stderr"] = proc.stderr
    return record


def outputs(notebook: Path) -> str:
    return "".join(
        "".join(output.get("text", ""))
        for cell in nbformat.read(notebook, 4).cells
        for output in cell.get("outputs", [])
    )


def test_the_sales_report_reruns_when_its_csv_changes(tmp_path: Path) -> None:
    """The sample as shipped, with no declared input: a changed data file re-runs and shows the new totals."""
    folder = tmp_path / "samples"
    shutil.copytree(SAMPLES, folder)
    notebook, cache, out = folder / "csv_report.ipynb", tmp_path / "c", folder / "o1.ipynb"
    assert "inputs" not in nbformat.read(notebook, 4).metadata.get("nbrun", {})
    first = run(notebook, cache, "-o", str(out))
    assert first["cached"] is False and "cache_rerun" not in first
    before = outputs(out)
    assert run(notebook, cache, "-o", str(out))["cached"] is True
    sales = folder / "data" / "sales.csv"
    rows = list(csv.reader(sales.read_text().splitlines()))
    column = rows[0].index("revenue")
    for row in rows[1:]:
        row[column] = str(float(row[column]) * 10)
    with sales.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    again = run(notebook, cache, "-o", str(out))
    assert again["cached"] is False and again["cache_rerun"] == "data/sales.csv changed"
    assert "re-run: data/sales.csv changed" in again["stderr"]
    assert outputs(out) != before  # the new totals
    explained = nbrun("cache", "key", str(notebook), "--cache", str(cache), "--explain").stdout
    assert "read     data/sales.csv" in explained and "replay: yes" in explained
    assert run(notebook, cache, "-o", str(out))["cached"] is True


def test_a_local_module_edited_between_runs(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook("import helper\nprint(helper.VALUE)"), notebook)
    assert run(notebook, tmp_path / "c")["cached"] is False
    assert run(notebook, tmp_path / "c")["cached"] is True
    stat = (tmp_path / "helper.py").stat()  # touched, not changed: the stat differs, the hash does not
    os.utime(tmp_path / "helper.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert run(notebook, tmp_path / "c")["cached"] is True
    (tmp_path / "helper.py").write_text("VALUE = 2\n")  # same size: only the content differs
    again = run(notebook, tmp_path / "c")
    assert again["cached"] is False and again["cache_rerun"] == "helper.py changed"
    assert outputs(notebook) == "2\n"


def test_a_globbed_folder_gaining_a_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook("import glob\nprint(len(glob.glob('data/*.csv')))"), notebook)
    assert run(notebook, tmp_path / "c")["cached"] is False
    (data / "notes.txt").write_text("not a csv")  # the pattern does not match it
    assert run(notebook, tmp_path / "c")["cached"] is True
    (data / "b.csv").write_text("2\n")
    again = run(notebook, tmp_path / "c")
    assert again["cached"] is False and again["cache_rerun"] == "data/*.csv matches other files (new: data/b.csv)"
    assert outputs(notebook) == "2\n"


def test_a_listed_folder_and_a_file_the_run_wrote(tmp_path: Path) -> None:
    """os.listdir sees nbrun's own output beside the notebook without going stale; a deleted output re-runs."""
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(
        make_notebook("import os\nprint(sorted(os.listdir('.')))", "open('table.csv', 'w').write('x')"), notebook
    )
    out = tmp_path / "nb.out.ipynb"
    assert run(notebook, tmp_path / "c", "-o", str(out))["cached"] is False
    assert run(notebook, tmp_path / "c", "-o", str(out))["cached"] is True  # its own output is not a change
    (tmp_path / "table.csv").unlink()
    again = run(notebook, tmp_path / "c", "-o", str(out))
    assert again["cache_rerun"] == "table.csv, which the run wrote, was removed"
    assert (tmp_path / "table.csv").exists()


def test_an_environment_variable_the_notebook_reads(tmp_path: Path) -> None:
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook("import os\nprint(os.environ.get('REPORT_REGION'))"), notebook)
    env = {**os.environ, "REPORT_REGION": "north"}
    assert run(notebook, tmp_path / "c", env=env)["cached"] is False
    assert run(notebook, tmp_path / "c", env=env)["cached"] is True
    again = run(notebook, tmp_path / "c", env={**env, "REPORT_REGION": "south"})
    assert again["cache_rerun"] == "the environment variable REPORT_REGION changed"
    assert outputs(notebook) == "south\n"


@pytest.fixture
def http_url(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving one file."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "rate.txt").write_text("1.25")
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(*args, directory=str(served))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/rate.txt"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_fetch_from_the_network_is_replayed_only_within_a_ttl(tmp_path: Path, http_url: str) -> None:
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(
        make_notebook(f"import urllib.request\nprint(urllib.request.urlopen({http_url!r}).read().decode())"), notebook
    )
    cache = tmp_path / "c"
    assert run(notebook, cache)["cached"] is False
    host = http_url.split("/")[2]
    no_ttl = run(notebook, cache)
    assert no_ttl["cached"] is False
    assert (
        no_ttl["cache_rerun"]
        == f"it reached the network ({host}), which nbrun cannot re-check, and no --cache-ttl is given"
    )
    assert run(notebook, cache, "--cache-ttl", "1h")["cached"] is True
    expired = run(notebook, cache, "--cache-ttl", "1ms")
    assert expired["cached"] is False and "past its --cache-ttl" in expired["cache_rerun"]
    for ttl, replayed in (("1h", True), ("1ms", False)):  # the notebook's own TTL, without the flag
        nb = nbformat.read(notebook, 4)
        nb.metadata.setdefault("nbrun", {})["cache"] = {"ttl": ttl}
        nbformat.write(nb, notebook)
        assert run(notebook, cache)["cached"] is replayed
        assert nbformat.read(notebook, 4).metadata.nbrun["cache"] == {"ttl": ttl}  # the run keeps what was declared


def test_a_subprocess_is_never_replayed_silently(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b\n")
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(
        make_notebook("import subprocess\nprint(subprocess.run(['cat', 'data.csv'], capture_output=True).stdout)"),
        notebook,
    )
    assert run(notebook, tmp_path / "c")["cached"] is False
    again = run(notebook, tmp_path / "c")
    assert again["cached"] is False
    assert again["cache_rerun"].startswith("it ran a subprocess (cat data.csv)")
    assert "re-run: it ran a subprocess (cat data.csv)" in again["stderr"]


def test_a_bash_notebook_is_cached_on_declared_inputs_and_says_so_once(
    tmp_path: Path, bash_kernel_spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebooks = []
    for name in ("one", "two"):
        nb = make_notebook("cat data.txt")
        nb.metadata["kernelspec"] = {"name": bash_kernel_spec, "display_name": "Bash", "language": "bash"}
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
        notebooks.append(str(tmp_path / f"{name}.ipynb"))
    (tmp_path / "data.txt").write_text("hello\n")
    proc = nbrun("run", *notebooks, "--cache", str(tmp_path / "c"), "--json", "r.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("the cache tracks only declared inputs") == 1, proc.stderr
    records = json.loads((tmp_path / "r.json").read_text())["notebooks"]
    assert [record["cache_tracks"] for record in records] == ["declared-inputs"] * 2
    proc = nbrun("run", *notebooks, "--cache", str(tmp_path / "c"), "--json", "-", cwd=tmp_path)
    assert all(record["cached"] for record in json.loads(proc.stdout)["notebooks"]), proc.stderr
    assert proc.stderr.count("the cache tracks only declared inputs") == 1, proc.stderr


def test_two_processes_filling_one_cache_record_their_reads(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.txt").write_text(name)
        nbformat.write(make_notebook(f"print(open('{name}.txt').read())"), tmp_path / f"{name}.ipynb")
    notebooks = [str(tmp_path / f"{name}.ipynb") for name in ("one", "two")]
    cache = str(tmp_path / "c")
    procs = [
        subprocess.Popen(
            [NBRUN, "run", *notebooks, "--cache", cache, "-j", "2", "--output-dir", str(tmp_path / f"out{i}")],
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=within(120))
        assert proc.returncode == 0, err
    (tmp_path / "two.txt").write_text("TWO")
    proc = nbrun("run", *notebooks, "--cache", cache, "--output-dir", str(tmp_path / "out3"), "--json", "-")
    records = {Path(record["input"]).stem: record for record in json.loads(proc.stdout)["notebooks"]}
    assert records["one"]["cached"] is True
    assert records["two"]["cached"] is False and records["two"]["cache_rerun"] == "two.txt changed"
