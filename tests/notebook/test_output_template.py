"""-o templates take the given values, then the notebook's declared defaults; the API formats them as the CLI does."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import nbrun
from nbrun import ExecuteOptions
from nbrun.errors import ParameterError
from nbrun.notebook.output_template import render_output
from tests.support.cli import invoke, one_line
from tests.support.notebooks import make_notebook


def report(path: Path) -> Path:
    nbformat.write(make_notebook(('region = "emea"\ndate = "2026-01-01"\nwhen = str(1)', ["parameters"]), "1"), path)
    return path


def test_given_values_first_then_declared_defaults(tmp_path: Path) -> None:
    nb = nbformat.read(report(tmp_path / "r.ipynb"), 4)
    assert render_output(Path("out/{region}/{date}.ipynb"), {"date": "2026-09-14"}, lambda: nb) == Path(
        "out/emea/2026-09-14.ipynb"
    )
    with pytest.raises(ParameterError, match=r"uses \{when\}, which no parameter sets"):
        render_output(Path("out/{when}.ipynb"), {}, lambda: nb)  # an expression is no default


@pytest.mark.kernel
@pytest.mark.usefixtures("no_leaked_kernels")
def test_the_cli_and_the_api_format_templates_alike(tmp_path: Path) -> None:
    source = report(tmp_path / "r.ipynb")
    result = invoke(str(source), "-o", str(tmp_path / "out" / "{region}" / "{date}.ipynb"), "-p", "date", "2026-09-14")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "emea" / "2026-09-14.ipynb").exists()
    ran = nbrun.run_path(source, tmp_path / "api" / "{region}-{date}.ipynb", ExecuteOptions(parameters={"date": "d"}))
    assert ran.ok and (tmp_path / "api" / "emea-d.ipynb").exists()
    assert not list((tmp_path / "api").glob("{*"))
    refused = invoke(str(source), "-o", str(tmp_path / "{nobody}.ipynb"))
    assert refused.exit_code == 2 and "{nobody}" in one_line(refused.stderr)
