"""The execution cache with real kernels: what re-runs, what is replayed, and the store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest
from click.testing import CliRunner
from lxml import etree
from nbformat.v4 import new_markdown_cell

from nbrun.cache import CacheStore, CorruptEntryError
from nbrun.cache.environment import canonical_program
from nbrun.cache.runs import storable
from nbrun.cli import main
from nbrun.result import CellRecord, CellStatus, ExecutionResult, RunStatus
from tests.support.notebooks import ROOT, make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = str(Path(sys.executable).parent / "nbrun")
RECORD_SCHEMA = json.loads((ROOT / "nbrun" / "schemas" / "run-record.schema.json").read_text())
JUNIT_SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "support" / "schemas" / "junit.xsd")))


def base_notebook() -> nbformat.NotebookNode:
    nb = make_notebook(
        ("x = 1", ["parameters"]),
        "import pathlib\nprint(x, pathlib.Path('data/a.csv').read_text().strip())",
        ("x * 10", ["keep"]),
    )
    nb.cells.insert(0, new_markdown_cell("# Report"))
    nb.metadata["nbrun"] = {"inputs": ["data/*.csv"]}
    return nb


def run_cli(*args: str) -> tuple[int, str, dict[str, Any]]:
    """``nbrun run ARGS --json FILE`` in-process: exit code, output, {notebook name: JSON record}."""
    report = Path(args[0]).parent / "run.json"
    result = CliRunner().invoke(main, ["run", *args, "--json", str(report)], catch_exceptions=False)
    record = json.loads(report.read_text())
    jsonschema.validate(record, RECORD_SCHEMA)
    return result.exit_code, result.output, {Path(nb["input"]).name: nb for nb in record["notebooks"]}


def cached(records: dict[str, Any]) -> dict[str, bool]:
    return {name: record.get("cached", False) for name, record in records.items()}


@pytest.fixture(scope="module")
def primed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder with base.ipynb and its data, run once into a fresh cache."""
    folder = tmp_path_factory.mktemp("cached")
    (folder / "data").mkdir()
    (folder / "data" / "a.csv").write_text("a,b\n1,2\n")
    nbformat.write(base_notebook(), folder / "base.ipynb")
    cache = folder / "cache"
    code, output, records = run_cli(str(folder / "base.ipynb"), "--cache", str(cache))
    assert code == 0, output
    assert records["base.ipynb"]["cached"] is False and records["base.ipynb"]["cache_key"]
    return folder, cache


def variant(folder: Path, name: str, change: Any) -> Path:
    nb = base_notebook()
    change(nb)
    nbformat.write(nb, folder / name)
    return folder / name


def test_cell_edits_rerun_only_when_execution_changes(primed: tuple[Path, Path]) -> None:
    folder, cache = primed
    paths = [
        folder / "base.ipynb",
        variant(folder, "prose.ipynb", lambda nb: nb.cells[0].update(source="# Report, reworded")),
        variant(folder, "tag.ipynb", lambda nb: nb.cells[3].metadata.update(tags=["keep", "slide"])),
        variant(folder, "ids.ipynb", lambda nb: [cell.update(id=f"renamed-{i}") for i, cell in enumerate(nb.cells)]),
        variant(folder, "code.ipynb", lambda nb: nb.cells[3].update(source="x * 100")),
        variant(folder, "skip.ipynb", lambda nb: nb.cells[3].metadata.update(tags=["skip-execution"])),
        variant(folder, "raises.ipynb", lambda nb: nb.cells[3].metadata.update(tags=["raises-exception"])),
    ]
    code, output, records = run_cli(*map(str, paths), "--cache", str(cache), "--output-dir", str(folder / "out"))
    assert code == 0, output
    assert cached(records) == {
        "base.ipynb": True,
        "prose.ipynb": True,
        "tag.ipynb": True,
        "ids.ipynb": True,
        "code.ipynb": False,
        "skip.ipynb": False,
        "raises.ipynb": False,
    }
    assert "ok (cached)" in output and "(4 from the cache)" in output
    # A replay keeps the notebook's own prose, ids and tags and takes the run's outputs.
    replayed = nbformat.read(folder / "out" / "prose.ipynb", as_version=4)
    assert replayed.cells[0].source == "# Report, reworded"
    assert replayed.cells[2].outputs[0]["text"] == "1 a,b\n1,2\n"
    assert replayed.cells[3].outputs[0]["data"]["text/plain"] == "10"
    assert replayed.metadata["nbrun"]["status"] == "ok"
    assert nbformat.read(folder / "out" / "code.ipynb", as_version=4).cells[3].outputs[0]["data"]["text/plain"] == "100"


def test_parameters_options_and_inputs_are_in_the_key(primed: tuple[Path, Path]) -> None:
    folder, cache = primed
    base = str(folder / "base.ipynb")
    out = ["--cache", str(cache), "-o", str(folder / "out" / "p.ipynb")]
    code, output, records = run_cli(base, *out, "-p", "x", "2")
    assert (code, cached(records)) == (0, {"base.ipynb": False}), output
    injected = nbformat.read(folder / "out" / "p.ipynb", as_version=4)
    assert injected.cells[4].outputs[0]["data"]["text/plain"] == "20"
    code, output, records = run_cli(base, *out, "-p", "x", "2")
    assert cached(records) == {"base.ipynb": True}
    assert nbformat.read(folder / "out" / "p.ipynb", as_version=4).cells[2].source == "# Parameters\nx = 2\n"
    # An option that changes results re-runs; one that does not is a hit.
    assert cached(run_cli(base, *out, "--allow-errors")[2]) == {"base.ipynb": False}
    assert cached(run_cli(base, *out, "--startup-timeout", "30", "--interrupt-grace", "2")[2]) == {"base.ipynb": True}
    # Declared input (metadata.nbrun.inputs) edited: re-run, then a hit again.
    (folder / "data" / "a.csv").write_text("a,b\n3,4\n")
    assert cached(run_cli(base, *out)[2]) == {"base.ipynb": False}
    assert nbformat.read(folder / "out" / "p.ipynb", as_version=4).cells[2].outputs[0]["text"] == "1 a,b\n3,4\n"
    assert cached(run_cli(base, *out)[2]) == {"base.ipynb": True}
    # --cache-input: a file outside the notebook's declarations; a glob matching nothing warns.
    (folder / "helpers.py").write_text("VERSION = 1\n")
    glob = str(folder / "helpers.py")
    assert cached(run_cli(base, *out, "--cache-input", glob)[2]) == {"base.ipynb": False}
    assert cached(run_cli(base, *out, "--cache-input", glob)[2]) == {"base.ipynb": True}
    (folder / "helpers.py").write_text("VERSION = 2\n")
    code, output, records = run_cli(base, *out, "--cache-input", glob, "--cache-input", str(folder / "nothing-*.txt"))
    assert cached(records) == {"base.ipynb": False}
    assert "declared input" in output and "nothing-*.txt' (--cache-input) matches no file" in output


def test_kernel_change_reruns(primed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, cache = primed
    spec_dir = folder / "jupyter" / "kernels" / "other-python"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Other",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(folder / "jupyter"))
    out = ["--cache", str(cache), "-o", str(folder / "out" / "k.ipynb")]
    assert cached(run_cli(str(folder / "base.ipynb"), *out, "-k", "other-python")[2]) == {"base.ipynb": False}
    assert cached(run_cli(str(folder / "base.ipynb"), *out, "-k", "other-python")[2]) == {"base.ipynb": True}


def test_installed_package_version_change_reruns(tmp_path: Path) -> None:
    """A fake distribution on the kernel's path (PYTHONPATH): its version is part of the key."""
    site = tmp_path / "site"
    (site / "fakepkg-1.0.dist-info").mkdir(parents=True)
    nbformat.write(make_notebook("print('hello')"), tmp_path / "nb.ipynb")
    env = {**os.environ, "PYTHONPATH": str(site)}
    command = [NBRUN, "run", str(tmp_path / "nb.ipynb"), "--cache", str(tmp_path / "c"), "--json", "-"]

    def run() -> bool:
        proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return bool(json.loads(proc.stdout)["notebooks"][0]["cached"])

    assert run() is False
    assert run() is True
    (site / "fakepkg-1.0.dist-info").rename(site / "fakepkg-1.1.dist-info")
    key = subprocess.run(
        [NBRUN, "cache", "key", str(tmp_path / "nb.ipynb"), "--cache", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert key.returncode == 0, key.stderr
    lines = key.stdout.splitlines()
    assert lines[0].startswith("key ") and len(lines[0]) == 4 + 64
    assert [line.split()[0] for line in lines[1:7]] == [
        "cells",
        "kernel",
        "packages",
        "parameters",
        "options",
        "inputs",
    ]
    assert f"python3 (python {sys.version.split()[0]}, {canonical_program(sys.executable)})" in key.stdout
    assert lines[-1].startswith("stored: no; differs from the last stored run") and lines[-1].endswith("in: packages")


def test_failures_are_stored_and_replayed(tmp_path: Path) -> None:
    nbformat.write(make_notebook("print('before')", "1/0", "print('never')"), tmp_path / "fails.ipynb")
    nbformat.write(make_notebook("import os\nos._exit(3)"), tmp_path / "dies.ipynb")
    paths = [str(tmp_path / "fails.ipynb"), str(tmp_path / "dies.ipynb")]
    cache = ["--cache", str(tmp_path / "c"), "--junit-xml", str(tmp_path / "junit.xml")]
    first = run_cli(*paths, *cache)
    first_notebook = (tmp_path / "fails.ipynb").read_text()
    second = run_cli(*paths, *cache)
    assert first[0] == second[0] == 1
    assert cached(first[2]) == {"fails.ipynb": False, "dies.ipynb": False}
    assert cached(second[2]) == {"fails.ipynb": True, "dies.ipynb": False}  # a dead kernel is never stored
    assert (
        second[2]["fails.ipynb"]["exit_code"] == 1 and second[2]["fails.ipynb"]["error"]["ename"] == "ZeroDivisionError"
    )
    assert "error (cached)" in second[1] and "FAILED (cached)" in second[1]
    assert (tmp_path / "fails.ipynb").read_text() == first_notebook  # the same notebook, byte for byte
    junit = etree.parse(str(tmp_path / "junit.xml"))
    JUNIT_SCHEMA.assertValid(junit)
    case = next(c for c in junit.iter("testcase") if c.get("name") == "fails.ipynb")
    assert case.find("failure") is not None and "replayed from the execution cache" in case.findtext("system-out")
    rerun = run_cli(*paths, *cache, "--rerun-failed")
    assert rerun[0] == 1 and cached(rerun[2]) == {"fails.ipynb": False, "dies.ipynb": False}


def test_two_processes_fill_one_cache(tmp_path: Path) -> None:
    for name in ("one", "two"):
        nbformat.write(make_notebook(f"print('{name}')"), tmp_path / f"{name}.ipynb")
    notebooks = [str(tmp_path / f"{name}.ipynb") for name in ("one", "two")]
    procs = [
        subprocess.Popen(
            [
                NBRUN,
                "run",
                *notebooks,
                "--cache",
                str(tmp_path / "c"),
                "-j",
                "2",
                "--output-dir",
                str(tmp_path / f"out{i}"),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    store = CacheStore(tmp_path / "c")
    entries = store.entries()
    assert len(entries) == 2 and all(store.load(entry.key) is not None for entry in entries)
    assert not list((tmp_path / "c").rglob("*.tmp"))
    _, output, records = run_cli(*notebooks, "--cache", str(tmp_path / "c"), "--output-dir", str(tmp_path / "out3"))
    assert all(cached(records).values()), output


def test_corrupt_entry_is_a_miss_with_a_warning(tmp_path: Path) -> None:
    nbformat.write(make_notebook("print('fine')"), tmp_path / "nb.ipynb")
    args = [str(tmp_path / "nb.ipynb"), "--cache", str(tmp_path / "c")]
    run_cli(*args)
    [entry] = CacheStore(tmp_path / "c").entries()
    entry.path.write_bytes(entry.path.read_bytes()[:-20])  # truncated
    code, output, records = run_cli(*args)
    assert code == 0 and cached(records) == {"nb.ipynb": False}
    assert "nb.ipynb: cache entry" in output and "truncated or corrupt" in output and "Traceback" not in output
    assert cached(run_cli(*args)[2]) == {"nb.ipynb": True}  # stored afresh
    raw = bytearray(entry.path.read_bytes())
    raw[-5] ^= 0x01  # one flipped bit in the body
    entry.path.write_bytes(bytes(raw))
    with pytest.raises(CorruptEntryError):
        CacheStore(tmp_path / "c").load(entry.key)


def test_list_show_prune_clear(tmp_path: Path) -> None:
    store = CacheStore(tmp_path / "c")
    notebook = make_notebook("print(1)")
    now = time.time()
    for age_days, key in ((40, "a" * 64), (10, "b" * 64), (0, "c" * 64)):
        path = store.save(key, notebook, {"status": "ok"}, {"cells": []}, {"status": "ok", "source": "/x.ipynb"})
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    runner = CliRunner()
    listing = runner.invoke(main, ["cache", "list", "--cache", str(tmp_path / "c")])
    assert listing.exit_code == 0 and listing.output.splitlines()[1].startswith("aaaaaaaaaaaa  ok")
    assert "3 entries" in listing.output
    show = runner.invoke(main, ["cache", "show", "bbbb", "--cache", str(tmp_path / "c")])
    assert show.exit_code == 0 and f"key      {'b' * 64}" in show.output
    assert runner.invoke(main, ["cache", "show", "zzzz", "--cache", str(tmp_path / "c")]).exit_code == 2
    pruned = runner.invoke(main, ["cache", "prune", "--older-than", "30", "--cache", str(tmp_path / "c")])
    assert pruned.exit_code == 0 and pruned.output.startswith("removed 1 entry")
    size = store.entries()[0].size
    pruned = runner.invoke(main, ["cache", "prune", "--max-size", str(size + 10), "--cache", str(tmp_path / "c")])
    assert pruned.output.startswith("removed 1 entry") and [e.key[0] for e in store.entries()] == ["c"]
    assert runner.invoke(main, ["cache", "prune", "--cache", str(tmp_path / "c")]).exit_code == 2
    cleared = runner.invoke(main, ["cache", "clear", "--cache", str(tmp_path / "c")])
    assert cleared.output.startswith("removed 1 entry") and store.entries() == []


def test_only_runs_that_belong_to_the_notebook_are_storable() -> None:
    def result(status: RunStatus, *cells: CellStatus, restarts: int = 0) -> ExecutionResult:
        records = [CellRecord(index, cell) for index, cell in enumerate(cells)]
        return ExecutionResult(make_notebook(), status, records, "python3", "", "", 0.0, restarts=restarts)

    assert storable(result(RunStatus.OK, CellStatus.OK))
    assert storable(result(RunStatus.ERROR, CellStatus.OK, CellStatus.ERROR, CellStatus.NOT_RUN))
    assert not storable(result(RunStatus.TIMEOUT, CellStatus.TIMEOUT))
    assert not storable(result(RunStatus.OK, CellStatus.TIMEOUT, CellStatus.OK))  # --allow-errors went on
    assert not storable(result(RunStatus.OK, CellStatus.OK, restarts=1))
    assert not storable(result(RunStatus.KERNEL_DIED, CellStatus.KERNEL_DIED))
    assert not storable(result(RunStatus.INTERRUPTED, CellStatus.INTERRUPTED))


def test_library_run_path_uses_the_cache(tmp_path: Path) -> None:
    """The one call a front end (e.g. the pytest plugin) makes."""
    import nbrun
    from nbrun.cache import CacheSettings

    nbformat.write(make_notebook("print('lib')"), tmp_path / "nb.ipynb")
    files = nbrun.FileOptions(cache=CacheSettings(tmp_path / "c"))
    first = nbrun.run_path(tmp_path / "nb.ipynb", tmp_path / "out.ipynb", file_options=files)
    second = nbrun.run_path(tmp_path / "nb.ipynb", tmp_path / "out.ipynb", file_options=files)
    assert (first.cached, second.cached) == (False, True)
    assert first.cache_key == second.cache_key and second.ok
    assert second.notebook.cells[0].outputs[0]["text"] == "lib\n"
    shutil.rmtree(tmp_path / "c")
