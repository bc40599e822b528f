"""The schema check compiled once per machine says "valid" only where nbformat would; nbformat words the rest."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import nbformat
import pytest

from nbrun.errors import NotebookReadError
from nbrun.notebook import schema_check
from nbrun.notebook.format import parse_notebook
from tests.support.notebooks import make_notebook


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    schema_check._compiled_check.cache_clear()
    return tmp_path / "xdg" / "nbrun" / "validators"


def notebook_text(**changes: object) -> str:
    nb = make_notebook("x = 1", "print(x)")
    nb.update(changes)
    return json.dumps(nb)


def test_a_valid_notebook_is_checked_without_nbformat_once_compiled(
    own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = notebook_text()
    parse_notebook(text)
    assert [path.suffix for path in own_cache.iterdir()] == [".marshal"]
    schema_check._compiled_check.cache_clear()  # a later process: loads the kept code

    def not_called(*args: object, **kwargs: object) -> None:
        raise AssertionError("nbformat.validate ran for a valid notebook")

    monkeypatch.setattr(nbformat, "validate", not_called)
    assert parse_notebook(text).cells[1].source == "print(x)"


def test_an_invalid_notebook_gets_nbformats_own_words() -> None:
    nb = json.loads(notebook_text())
    nb["cells"][0]["execution_count"] = "one"
    with pytest.raises(NotebookReadError) as caught:
        parse_notebook(json.dumps(nb))
    expected = nbformat.from_dict(json.loads(json.dumps(nb)))
    with pytest.raises(nbformat.ValidationError) as theirs:
        nbformat.validate(expected)
    assert theirs.value.message.splitlines()[0] in str(caught.value)


def test_repeated_and_missing_cell_ids_are_repaired_as_nbformat_does() -> None:
    nb = json.loads(notebook_text())
    nb["cells"][1]["id"] = nb["cells"][0]["id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = parse_notebook(json.dumps(nb))
    assert parsed.cells[0].id != parsed.cells[1].id
    del nb["cells"][1]["id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert parse_notebook(json.dumps(nb)).cells[1].get("id")


def test_an_older_minor_is_checked_against_its_own_schema(own_cache: Path) -> None:
    nb = json.loads(notebook_text(nbformat_minor=4))
    for cell in nb["cells"]:
        cell.pop("id", None)
    parse_notebook(json.dumps(nb))
    assert any(path.name.startswith("nbformat.v4.4-") for path in own_cache.iterdir())


def test_a_damaged_kept_check_is_compiled_again(own_cache: Path) -> None:
    parse_notebook(notebook_text())
    (kept,) = own_cache.iterdir()
    kept.write_bytes(b"not marshal data")
    schema_check._compiled_check.cache_clear()
    assert parse_notebook(notebook_text()).nbformat == 4
    assert kept.read_bytes() != b"not marshal data"
