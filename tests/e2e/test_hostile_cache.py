"""The execution cache against stale and malformed state: what a run read beyond its key, odd entries, odd stores.

Every run goes through the installed ``nbrun`` command with a real kernel.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest
from lxml import etree

from nbrun.cache import CacheStore
from tests.support.notebooks import ROOT, make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = str(Path(sys.executable).parent / "nbrun")
RECORD_SCHEMA = json.loads((ROOT / "nbrun" / "schemas" / "run-record.schema.json").read_text())
JUNIT_SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "support" / "schemas" / "junit.xsd")))
TIMEOUT = 180


def nbrun(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NBRUN, *args], capture_output=True, text=True, env=env or dict(os.environ), timeout=TIMEOUT)


def run_cached(notebook: Path, cache: Path, env: dict[str, str] | None = None) -> bool:
    """``nbrun run NOTEBOOK --cache CACHE``: whether it was replayed (it must succeed)."""
    proc = nbrun("run", str(notebook), "--cache", str(cache), "--json", "-", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "matches no file" not in proc.stderr, proc.stderr
    return bool(json.loads(proc.stdout)["notebooks"][0]["cached"])


def explain(notebook: Path, cache: Path, env: dict[str, str] | None = None) -> str:
    proc = nbrun("cache", "key", str(notebook), "--cache", str(cache), env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_editable_install_change_reruns(tmp_path: Path) -> None:
    """A distribution installed in editable mode (its dist-info's direct_url.json says so, as pip writes it)
    whose module the notebook imports: editing the module's source makes the stored run stale."""
    site, project = tmp_path / "site", tmp_path / "project"
    info = site / "localpkg-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: localpkg\nVersion: 0.1\n")
    (info / "direct_url.json").write_text(json.dumps({"url": project.as_uri(), "dir_info": {"editable": True}}))
    (project / "localpkg").mkdir(parents=True)
    (project / "localpkg" / "__init__.py").write_text("from .core import VALUE\n")
    (project / "localpkg" / "core.py").write_text("VALUE = 1\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(project)])}  # the .pth an install adds
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook("import localpkg\nprint(localpkg.VALUE)"), notebook)
    cache = tmp_path / "cache"

    assert run_cached(notebook, cache, env) is False
    assert run_cached(notebook, cache, env) is True
    (project / "localpkg" / "core.py").write_text("VALUE = 2\n")  # same size, same key: only the content changed
    assert "out of date: project/localpkg/core.py changed" in explain(notebook, cache, env)
    assert run_cached(notebook, cache, env) is False
    assert nbformat.read(notebook, as_version=4).cells[0].outputs[0]["text"] == "2\n"
    assert run_cached(notebook, cache, env) is True


def test_environment_variable_change_reruns(tmp_path: Path) -> None:
    """Variables read through os.environ[...], os.getenv and `in`: a changed, set or unset one is a miss;
    the entry keeps a keyed digest, never the value; the recorder leaves no trace in the notebook."""
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(
        make_notebook(
            "import os\nprint(len(os.environ['NB_ALPHA']), os.getenv('NB_BETA'), 'NB_GAMMA' in os.environ)",
            "print(sorted(name for name in dir() if not name.startswith('_')), type(os.environ))",
        ),
        notebook,
    )
    cache = tmp_path / "cache"
    base = {**os.environ, "NB_ALPHA": "secret-alpha-value", "NB_BETA": "b", "NB_UNRELATED": "1"}
    base.pop("NB_GAMMA", None)

    assert run_cached(notebook, cache, base) is False
    written = nbformat.read(notebook, as_version=4)
    assert [cell.execution_count for cell in written.cells] == [1, 2]
    names = "['In', 'Out', 'exit', 'get_ipython', 'open', 'os', 'quit']"  # IPython's own, and the notebook's
    assert written.cells[1].outputs[0]["text"] == f"{names} <class 'os._Environ'>\n"
    raw = b"".join(path.read_bytes() for path in cache.rglob("*") if path.is_file())
    assert b"secret-alpha-value" not in raw
    assert run_cached(notebook, cache, {**base, "NB_UNRELATED": "2"}) is True  # not read: no matter
    for changed in ({**base, "NB_ALPHA": "other"}, {**base, "NB_BETA": "c"}, {**base, "NB_GAMMA": ""}):
        assert run_cached(notebook, cache, changed) is False
    assert "out of date: the environment variable NB_GAMMA changed" in explain(notebook, cache, base)
    assert run_cached(notebook, cache, base) is False
    assert run_cached(notebook, cache, base) is True


def test_declared_folder_input_covers_every_file_under_it(tmp_path: Path) -> None:
    (tmp_path / "data" / "nested").mkdir(parents=True)
    (tmp_path / "data" / "nested" / "a.csv").write_text("1\n")
    nb = make_notebook("import pathlib\nprint(sorted(p.name for p in pathlib.Path('data').rglob('*')))")
    nb.metadata["nbrun"] = {"inputs": ["data"]}
    notebook, cache = tmp_path / "nb.ipynb", tmp_path / "cache"
    nbformat.write(nb, notebook)

    assert run_cached(notebook, cache) is False  # and no "matches no file" warning (run_cached checks)
    assert "data :: data/nested/a.csv" in explain(notebook, cache)
    assert run_cached(notebook, cache) is True
    (tmp_path / "data" / "nested" / "a.csv").write_text("2\n")
    assert run_cached(notebook, cache) is False
    (tmp_path / "data" / "b.csv").write_text("new\n")
    assert run_cached(notebook, cache) is False
    assert run_cached(notebook, cache) is True


def _rewrite_entry(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change an entry's body and give it a valid checksum again (the store cannot tell)."""
    line, _, body = path.read_bytes().partition(b"\n")
    header, data = json.loads(line), json.loads(body)
    change(data)
    body = json.dumps(data).encode()
    header.update(sha256=hashlib.sha256(body).hexdigest(), size=len(body))
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)


ODD_ENTRIES: dict[str, Callable[[dict[str, Any]], None]] = {
    "extra_record_field": lambda data: data["record"].update(surprise=1),
    "extra_cell_field": lambda data: data["record"]["cells"][0].update(surprise=1),
    "unknown_status": lambda data: data["record"].update(status="splendid"),
    "unknown_cell_status": lambda data: data["record"]["cells"][0].update(status="splendid"),
    "no_cells": lambda data: data["record"].pop("cells"),
    "no_notebook_cells": lambda data: data["notebook"].pop("cells"),
}


def test_entries_of_an_unexpected_shape_are_misses_with_a_warning(tmp_path: Path) -> None:
    notebooks = []
    for name in ODD_ENTRIES:
        nbformat.write(make_notebook(f"print({name!r})"), tmp_path / f"{name}.ipynb")
        notebooks.append(str(tmp_path / f"{name}.ipynb"))
    cache, out = tmp_path / "cache", tmp_path / "out"
    args = [
        "run",
        *notebooks,
        "--cache",
        str(cache),
        "--output-dir",
        str(out),
        "--json",
        str(tmp_path / "run.json"),
        "--junit-xml",
        str(tmp_path / "junit.xml"),
    ]
    assert nbrun(*args).returncode == 0
    store = CacheStore(cache)
    for entry in store.entries():
        _rewrite_entry(entry.path, ODD_ENTRIES[Path(entry.source).stem])
        (out / Path(entry.source).name).unlink()

    proc = nbrun(*args)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in ODD_ENTRIES:
        [warning] = [line for line in proc.stderr.splitlines() if line.startswith(f"nbrun: {name}.ipynb: cache entry")]
        assert warning.endswith("; running the notebook"), warning
        assert nbformat.read(out / f"{name}.ipynb", as_version=4).cells[0].outputs[0]["text"] == f"{name}\n"
    record = json.loads((tmp_path / "run.json").read_text())
    jsonschema.validate(record, RECORD_SCHEMA)
    assert [notebook["cached"] for notebook in record["notebooks"]] == [False] * len(ODD_ENTRIES)
    JUNIT_SCHEMA.assertValid(etree.parse(str(tmp_path / "junit.xml")))

    again = nbrun(*args)  # the misses stored fresh entries
    assert again.returncode == 0 and "cache entry" not in again.stderr, again.stderr
    assert all(notebook["cached"] for notebook in json.loads((tmp_path / "run.json").read_text())["notebooks"])


def test_prune_and_clear_of_an_unremovable_entry_is_one_error_line(tmp_path: Path) -> None:
    """An entry the store cannot remove (as in a read-only cache): a folder where an entry file belongs,
    so unlink() genuinely fails (EISDIR; root ignores permissions, so a read-only mode would not do)."""
    cache = tmp_path / "cache"
    (cache / "nbrun-cache-1" / "ab" / f"{'ab' * 32}.nbrun").mkdir(parents=True)
    for command in (["prune", "--older-than", "0"], ["clear"]):
        proc = nbrun("cache", *command, "--cache", str(cache))
        assert proc.returncode == 5, proc.stderr
        assert "Traceback" not in proc.stderr
        [line] = proc.stderr.splitlines()
        assert line.startswith(f"nbrun: error: cache {cache}: could not remove ") and line.endswith("Is a directory")
