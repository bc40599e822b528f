"""Malformed, odd and hostile notebook files given to ``nbrun run``.

Whatever the file holds, nbrun must either run it (exit 0 or 1, the result
written as a valid notebook) or refuse it with exit 5 and exactly one stderr
line naming the file, leaving the file byte-identical, and never show a
Python traceback. The CLI runs in-process (click's CliRunner); notebooks that
pass validation really run on an ipykernel kernel.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from pathlib import Path
from typing import Any

import IPython  # noqa: F401 - jupyter_client imports it on a process's first kernel start, and with it jedi,
import nbformat  # which raises the recursion limit: hypothesis would call that a change the test made
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nbrun.cli import main

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]

PYTHON_TRACEBACK = "Traceback (most recent call last):"

BASE: dict[str, Any] = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "id": "code-1", "metadata": {}, "source": "1", "outputs": [], "execution_count": None},
        {"cell_type": "markdown", "id": "text-1", "metadata": {}, "source": "# Title"},
        {
            "cell_type": "code",
            "id": "code-2",
            "metadata": {"tags": ["x"]},
            "source": ["(2\n", "+ 3)"],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "stale\n"}],
            "execution_count": 7,
        },
    ],
}


def run_cli(path: Path) -> Result:
    return CliRunner().invoke(main, ["run", str(path), "--timeout", "10"])


def check_clean_outcome(path: Path, before: bytes, result: Result) -> None:
    """The property every input must satisfy."""
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"nbrun crashed: {result.exception!r}\n{result.output}"
    assert PYTHON_TRACEBACK not in result.output, result.output
    code = result.exit_code
    if code == 4:  # documented: a mutated kernelspec may name a kernel that is not installed
        assert "no kernel named" in result.stderr and "choose one with -k, e.g. -k " in result.stderr, result.stderr
        code = 5
    assert code in (0, 1, 5), f"exit {result.exit_code}\n{result.output}"
    if code == 5:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert path.name in lines[0]
        assert path.read_bytes() == before, "a refused notebook was modified"
    else:
        written = nbformat.read(path, 4)  # the run's output is a valid notebook
        nbformat.validate(written)
        assert written.metadata.nbrun["status"] in ("ok", "error")


# -- the property test -------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
# "\ud800" / "\udfff" end up in the file as lone-surrogate JSON escapes (with
# ensure_ascii) or as invalid UTF-8 bytes (surrogatepass).
ODD_CHARACTERS = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x7f",
    "\r",
    "\ufeff",
    "\u2028",
    "\uffff",
    "\ud800",
    "\udfff",
]
TOP_FIELDS = ["cells", "metadata", "nbformat", "nbformat_minor"]
CELL_FIELDS = ["cell_type", "source", "outputs", "metadata", "execution_count", "id", "attachments"]
BAD_BYTES = [b"\xff", b"\xfe", b"\xc3(", b"\xed\xa0\x80", b"\x80", b"\xf0\x28\x8c\x28"]


@st.composite
def mutated_notebooks(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A small notebook with 1-3 mutations, serialised (sometimes with invalid UTF-8)."""
    doc: Any = copy.deepcopy(BASE)
    done: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["drop", "retype", "chars", "huge", "minor", "extra", "whole", "list-source"]))
        cells = doc.get("cells") if isinstance(doc, dict) else None
        cell = draw(st.sampled_from(cells)) if isinstance(cells, list) and cells else None
        if not isinstance(doc, dict):
            break
        if op == "drop":
            if isinstance(cell, dict) and cell and draw(st.booleans()):
                key = draw(st.sampled_from(sorted(cell)))
                del cell[key]
                done.append(f"drop cell.{key}")
            elif doc:
                key = draw(st.sampled_from(sorted(doc)))
                del doc[key]
                done.append(f"drop {key}")
        elif op == "retype":
            if isinstance(cell, dict) and draw(st.booleans()):
                key = draw(st.sampled_from(CELL_FIELDS))
                cell[key] = draw(JSON_VALUES)
                done.append(f"cell.{key}={cell[key]!r}"[:80])
            else:
                key = draw(st.sampled_from(TOP_FIELDS))
                doc[key] = draw(JSON_VALUES)
                done.append(f"{key}={doc[key]!r}"[:80])
        elif op == "chars" and isinstance(cell, dict) and isinstance(cell.get("source"), str):
            text = cell["source"]
            at = draw(st.integers(0, len(text)))
            odd = "".join(draw(st.lists(st.sampled_from(ODD_CHARACTERS), min_size=1, max_size=3)))
            cell["source"] = text[:at] + odd + text[at:]
            done.append(f"chars {odd!r} in {cell.get('cell_type')}")
        elif op == "huge" and isinstance(cell, dict):
            size = draw(st.sampled_from([10_000, 300_000, 2_000_000]))
            # a comment in a code cell: valid Python, quick to run
            cell["source"] = "1\n#" + "x" * size if cell.get("cell_type") == "code" else "x" * size
            done.append(f"huge source {size}")
        elif op == "minor":
            doc["nbformat_minor"] = draw(st.sampled_from([99, 0, 1, 4, -1, 10**20, 5.5, "5"]))
            done.append(f"nbformat_minor={doc['nbformat_minor']!r}")
        elif op == "extra":
            where = draw(st.sampled_from(["top", "cell", "metadata"]))
            target = {"top": doc, "cell": cell, "metadata": doc.get("metadata")}[where]
            if isinstance(target, dict):
                key = draw(st.text(min_size=1, max_size=8))
                target[key] = draw(JSON_VALUES)
                done.append(f"extra {where}.{key!r}")
        elif op == "whole" and draw(st.integers(0, 9)) == 0:
            doc = draw(JSON_VALUES)
            done.append(f"whole={doc!r}"[:80])
        elif op == "list-source" and isinstance(cell, dict):
            cell["source"] = draw(st.lists(st.sampled_from(["1\n", "2", "", "# c\n"]) | JSON_VALUES, max_size=3))
            done.append(f"source={cell['source']!r}"[:80])
    data = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data)))
        bad = draw(st.sampled_from(BAD_BYTES))
        data = data[:at] + bad + data[at:]
        done.append(f"bytes {bad!r} at {at}")
    return data, done


@settings(
    max_examples=int(os.environ.get("NBRUN_FUZZ_EXAMPLES", "40")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=mutated_notebooks())
def test_mutated_notebooks_run_or_are_refused_cleanly(tmp_path: Path, case: tuple[bytes, list[str]]) -> None:
    data, mutations = case
    path = tmp_path / f"mutated-{uuid.uuid4().hex[:8]}.ipynb"
    path.write_bytes(data)
    result = run_cli(path)
    event(f"exit {result.exit_code}")  # see --hypothesis-show-statistics
    try:
        check_clean_outcome(path, data, result)
    except AssertionError as exc:
        raise AssertionError(f"mutations: {mutations}\n{exc}") from exc


# -- explicit cases --------------------------------------------------------------------------


def write_doc(tmp_path: Path, name: str, doc: Any = None, raw: bytes | None = None) -> tuple[Path, bytes]:
    data = raw if raw is not None else json.dumps(doc).encode()
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def _without_cells() -> dict[str, Any]:
    doc = base()
    del doc["cells"]
    return doc


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = base()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


REFUSED = {
    "missing_cells.ipynb": _without_cells(),
    "cells_not_a_list.ipynb": _with(("cells",), {"0": BASE["cells"][0]}),
    "cells_a_string.ipynb": _with(("cells",), "print(1)"),
    "source_a_number.ipynb": _with(("cells", 0, "source"), 42),
    "source_list_with_number.ipynb": _with(("cells", 0, "source"), ["1\n", 2]),
    "outputs_a_string.ipynb": _with(("cells", 0, "outputs"), "none"),
    "outputs_a_dict.ipynb": _with(("cells", 0, "outputs"), {}),
    "output_text_a_number.ipynb": _with(
        ("cells", 2, "outputs"), [{"output_type": "stream", "name": "stdout", "text": 5}]
    ),
    "cell_type_a_number.ipynb": _with(("cells", 0, "cell_type"), 3),
    "cell_a_null.ipynb": _with(("cells", 1), None),
    "metadata_a_list.ipynb": _with(("metadata",), []),
    "nbformat_minor_a_string.ipynb": _with(("nbformat_minor",), "5"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_invalid_structure_is_refused_in_one_line(tmp_path: Path, name: str) -> None:
    path, before = write_doc(tmp_path, name, REFUSED[name])
    result = run_cli(path)
    assert result.exit_code == 5, result.output
    check_clean_outcome(path, before, result)
    assert "not a valid notebook" in result.stderr or "not a notebook" in result.stderr


def test_future_nbformat_minor_runs(tmp_path: Path) -> None:
    path, before = write_doc(tmp_path, "minor99.ipynb", _with(("nbformat_minor",), 99))
    result = run_cli(path)
    assert result.exit_code == 0, result.output
    check_clean_outcome(path, before, result)
    nb = nbformat.read(path, 4)
    assert nb.cells[0].outputs[0].data["text/plain"] == "1"
    assert nb.cells[2].outputs[0].data["text/plain"] == "5"


def test_five_megabyte_cell_source_runs(tmp_path: Path) -> None:
    source = "s = '" + "a" * 5_000_000 + "'\nprint(len(s))"
    path, before = write_doc(tmp_path, "big.ipynb", _with(("cells", 0, "source"), source))
    result = run_cli(path)
    assert result.exit_code == 0, result.output
    check_clean_outcome(path, before, result)
    nb = nbformat.read(path, 4)
    assert nb.cells[0].outputs[0].text == "5000000\n"
    assert nb.cells[0].source == source


def test_nul_characters_in_source_are_a_cell_error_not_a_crash(tmp_path: Path) -> None:
    path, before = write_doc(tmp_path, "nul.ipynb", _with(("cells", 0, "source"), "x = 1\x00\nprint(x)"))
    result = run_cli(path)
    assert result.exit_code == 1, result.output
    check_clean_outcome(path, before, result)
    nb = nbformat.read(path, 4)
    assert nb.metadata.nbrun["failed_cell"] == 0
    assert nb.cells[0].outputs[-1].ename == "SyntaxError"
    assert "\x00" in nb.cells[0].source  # the source is kept as it was


def test_byte_order_mark_at_file_start_is_accepted(tmp_path: Path) -> None:
    path, before = write_doc(tmp_path, "bom.ipynb", raw=b"\xef\xbb\xbf" + json.dumps(BASE).encode())
    result = run_cli(path)
    assert result.exit_code == 0, result.output
    check_clean_outcome(path, before, result)


def test_invalid_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    data = json.dumps(BASE).encode()
    path, before = write_doc(tmp_path, "latin.ipynb", raw=data.replace(b"# Title", b"# Caf\xe9"))
    result = run_cli(path)
    assert result.exit_code == 5, result.output
    check_clean_outcome(path, before, result)
    assert "not UTF-8" in result.stderr


LONE_SURROGATES = {
    "in_code_source.ipynb": ("cells", 0, "source"),
    "in_markdown_source.ipynb": ("cells", 1, "source"),
    "in_notebook_metadata.ipynb": ("metadata", "title"),
}


@pytest.mark.parametrize("name", sorted(LONE_SURROGATES))
def test_lone_surrogate_is_refused_or_run_cleanly(tmp_path: Path, name: str) -> None:
    path, before = write_doc(tmp_path, name, _with(LONE_SURROGATES[name], "x = '\ud800'"))
    assert b"\\ud800" in before
    result = run_cli(path)
    check_clean_outcome(path, before, result)
