"""Papermill-compatible parameters, against real kernels (and papermill itself)."""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell

import nbrun
from nbrun.cli import main
from nbrun.notebook.parameters import parse_value, python_literal
from tests.support.notebooks import SAMPLES, make_notebook

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
REPORT = "print(repr((a, b)))"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def parameterised(tmp_path: Path, with_parameters_cell: bool = True) -> Path:
    nb = make_notebook("x = 'first cell'")
    if with_parameters_cell:
        cell = new_code_cell("a = 1  # the first\nb: str = 'two'")
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells.append(new_code_cell(REPORT))
    path = tmp_path / "p.ipynb"
    nbformat.write(nb, path)
    return path


def sources(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, 4).cells]


def last_output(path: Path) -> str:
    return nbformat.read(path, 4).cells[-1].outputs[0].text.strip()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-4", -4),
        ("2.5", 2.5),
        ("1e3", 1000.0),
        ("True", True),
        ("False", False),
        ("false", "false"),  # papermill converts exactly True, False and None
        ("none", "none"),
        ("null", "null"),
        ("None", None),
        ("2026-09-15", "2026-09-15"),
        ("hello world", "hello world"),
        ("", ""),
    ],
)
def test_parse_value_like_papermill(text: str, value: object) -> None:
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


@pytest.mark.kernel
def test_injected_after_the_parameters_cell_and_replaced_on_rerun(tmp_path: Path) -> None:
    path = parameterised(tmp_path)
    assert invoke("run", str(path), "-p", "a", "5").exit_code == 0
    cells = sources(path)
    assert cells[2].startswith("# Parameters") and "a = 5" in cells[2]
    assert nbformat.read(path, 4).cells[2].metadata.tags == ["injected-parameters"]
    assert last_output(path) == "(5, 'two')"
    assert nbformat.read(path, 4).metadata.nbrun["parameters"] == {"a": 5}
    assert invoke("run", str(path), "-p", "a", "6", "-r", "b", "7").exit_code == 0
    cells = sources(path)
    assert len(cells) == 4 and sum("# Parameters" in c for c in cells) == 1
    assert last_output(path) == "(6, '7')"


@pytest.mark.kernel
def test_without_parameters_cell_injected_at_top_with_a_warning(tmp_path: Path) -> None:
    path = parameterised(tmp_path, with_parameters_cell=False)
    result = invoke("run", str(path), "-p", "a", "1", "-p", "b", "2")
    assert result.exit_code == 0
    assert "no cell tagged 'parameters'" in result.stderr
    assert sources(path)[0].startswith("# Parameters")
    assert last_output(path) == "(1, 2)"


VALUES = {
    "text": 'it\'s "quoted"\nnew line \\ backslash — ünïcödé 🎉',
    "integer": 12345678901234567890,
    "negative": -7,
    "real": 0.1,
    "nan": float("nan"),
    "inf": float("inf"),
    "ninf": float("-inf"),
    "yes": True,
    "nothing": None,
    "nested": {"list": [1, 2.5, "x", None, [True]], "dict": {"k": "v"}},
}


@pytest.mark.kernel
def test_every_value_type_round_trips_into_the_kernel() -> None:
    names = list(VALUES)
    nb = make_notebook(("pass", ["parameters"]), "print(repr([" + ", ".join(names) + "]))")
    result = nbrun.execute(nb, nbrun.ExecuteOptions(parameters=VALUES))
    assert result.ok
    assert nb.cells[-1].outputs[0].text.strip() == repr(list(VALUES.values()))
    stored = nb.metadata.nbrun["parameters"]
    assert stored["nan"] == "nan" and stored["inf"] == "inf" and stored["text"] == VALUES["text"]


def test_literals_evaluate_back_to_the_value() -> None:
    for value in VALUES.values():
        back = eval(python_literal(value))
        assert (
            (math.isnan(back) and math.isnan(value))
            if isinstance(value, float) and math.isnan(value)
            else back == value
        )


@pytest.mark.kernel
def test_yaml_and_file_sources_and_their_order(tmp_path: Path) -> None:
    path = parameterised(tmp_path)
    params_file = tmp_path / "params.yaml"
    params_file.write_text("a: 1\nb: 2026-09-15\n")
    result = invoke("run", str(path), "-f", str(params_file), "-y", "a: 2", "-p", "a", "3")
    assert result.exit_code == 0
    assert last_output(path) == "(3, '2026-09-15')"  # -p beats -y beats -f; YAML dates stay strings
    json_file = tmp_path / "params.json"
    json_file.write_text('{"a": [1, {"x": null}], "b": 1.5}')
    assert invoke("run", str(path), "-f", str(json_file)).exit_code == 0
    assert last_output(path) == "([1, {'x': None}], 1.5)"


@pytest.mark.kernel
def test_unknown_parameter_warns_or_fails_when_strict(tmp_path: Path) -> None:
    path = parameterised(tmp_path)
    lenient = invoke("run", str(path), "-p", "zzz", "1")
    assert lenient.exit_code == 0 and "zzz" in lenient.stderr
    before = path.read_bytes()
    strict = invoke("run", str(path), "-p", "zzz", "1", "--strict-params")
    assert strict.exit_code == 2 and "zzz" in strict.stderr and "Traceback" not in strict.stderr
    assert path.read_bytes() == before


@pytest.mark.kernel
def test_output_template_and_missing_key(tmp_path: Path) -> None:
    path = parameterised(tmp_path)
    out = tmp_path / "reports" / "{b}" / "a-{a}.ipynb"
    assert invoke("run", str(path), "-p", "a", "9", "-r", "b", "north", "-o", str(out)).exit_code == 0
    assert last_output(tmp_path / "reports" / "north" / "a-9.ipynb") == "(9, 'north')"
    missing = invoke("run", str(path), "-p", "a", "9", "-o", str(tmp_path / "{region}.ipynb"))
    assert missing.exit_code == 2 and "{region}" in missing.stderr


@pytest.mark.kernel
def test_params_grid_runs_once_per_mapping_in_parallel(tmp_path: Path) -> None:
    path = parameterised(tmp_path)
    grid = tmp_path / "grid.yaml"
    grid.write_text("- {a: 1, b: north}\n- {a: 2, b: south}\n- {a: 3, b: east}\n")
    result = invoke(
        "run",
        str(path),
        "--params-grid",
        str(grid),
        "-j",
        "2",
        "-o",
        str(tmp_path / "out" / "{b}.ipynb"),
        "--json",
        str(tmp_path / "run.json"),
    )
    assert result.exit_code == 0, result.stderr
    for a, b in ((1, "north"), (2, "south"), (3, "east")):
        assert last_output(tmp_path / "out" / f"{b}.ipynb") == f"({a}, '{b}')"
    import json

    record = json.loads((tmp_path / "run.json").read_text())
    assert [n["parameters"] for n in record["notebooks"]] == [
        {"a": 1, "b": "north"},
        {"a": 2, "b": "south"},
        {"a": 3, "b": "east"},
    ]
    clash = invoke("run", str(path), "--params-grid", str(grid), "-o", str(tmp_path / "same.ipynb"))
    assert clash.exit_code == 2


def test_non_python_kernels_refuse_parameters(tmp_path: Path) -> None:
    nb = make_notebook("x <- 1")
    nb.metadata.kernelspec = {"name": "ir", "display_name": "R", "language": "R"}
    path = tmp_path / "r.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    result = invoke("run", str(path), "-p", "x", "2")
    assert result.exit_code == 2 and "Python" in result.stderr
    assert path.read_bytes() == before


def test_inspect_lists_names_defaults_types_and_comments(tmp_path: Path) -> None:
    result = invoke("inspect", str(parameterised(tmp_path)))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.split()[:4] == ["a", "int", "default", "1"] and "# the first" in line for line in lines)
    assert any(line.split()[:4] == ["b", "str", "default", "'two'"] for line in lines)
    bare = tmp_path / "bare.ipynb"
    nbformat.write(make_notebook("x = 1"), bare)
    assert "no cell tagged 'parameters'" in invoke("inspect", str(bare)).stderr
    assert invoke("inspect", str(tmp_path / "missing.ipynb")).exit_code == 5


@pytest.mark.kernel
def test_papermill_made_notebook_reruns_with_the_same_values(tmp_path: Path) -> None:
    papermill = pytest.importorskip("papermill")
    source = parameterised(tmp_path)
    made = tmp_path / "by_papermill.ipynb"
    papermill.execute_notebook(
        str(source), str(made), parameters={"a": 42, "b": "from papermill"}, kernel_name="python3", progress_bar=False
    )
    assert last_output(made) == "(42, 'from papermill')"
    assert invoke("run", str(made)).exit_code == 0  # its injected cell is kept and re-run
    assert last_output(made) == "(42, 'from papermill')"
    assert invoke("run", str(made), "-p", "a", "43").exit_code == 0
    assert sum("injected-parameters" in c.metadata.get("tags", []) for c in nbformat.read(made, 4).cells) == 1
    assert last_output(made) == "(43, 'two')"


@pytest.mark.kernel
def test_daily_report_sample_for_two_dates(sample_copy, tmp_path: Path) -> None:
    path = sample_copy("daily_report.ipynb")
    for date in ("2026-09-14", "2026-09-15"):
        result = invoke("run", str(path), "-p", "date", date, "-o", str(tmp_path / "out" / "{date}.ipynb"))
        assert result.exit_code == 0, result.stderr
        text = nbformat.read(tmp_path / "out" / f"{date}.ipynb", 4).cells[3].outputs[0].text
        assert text.startswith(f"{date} (all): 4 rows")
    assert sources(path) == [c.source for c in nbformat.read(SAMPLES / "daily_report.ipynb", 4).cells]
