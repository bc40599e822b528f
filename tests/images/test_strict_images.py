"""strict_images is enforced by the library: run_path fails, and the JSON record, JUnit and exit code agree."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

import nbrun
from nbrun.cli import main
from nbrun.errors import BrokenImagesError
from nbrun.options import FileOptions

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
BROKEN_CELL = "from IPython.display import display\ndisplay({'image/png': 'not base64 at all!!', 'text/plain': 'broken'}, raw=True)"


def test_run_path_raises_after_writing_the_notebook(write_nb, tmp_path: Path) -> None:
    path = write_nb(BROKEN_CELL)
    with pytest.raises(BrokenImagesError, match="1 broken image payload"):
        nbrun.run_path(path, file_options=FileOptions(extract_images=tmp_path / "img", strict_images=True))
    written = nbformat.read(path, 4)
    assert written.metadata.nbrun["status"] == "ok"  # the run itself succeeded and was kept
    assert written.cells[0].outputs[0].data["image/png"] == "not base64 at all!!"


def test_json_and_junit_agree_with_exit_5(write_nb, tmp_path: Path) -> None:
    path = write_nb(BROKEN_CELL)
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(path),
            "--extract-images",
            str(tmp_path / "img"),
            "--strict-images",
            "--json",
            "-",
            "--junit-xml",
            str(junit),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 5
    record = json.loads(result.stdout)
    assert record["exit_code"] == 5
    (notebook,) = record["notebooks"]
    assert notebook["status"] == "io-error" and notebook["exit_code"] == 5
    assert "--strict-images" in notebook["message"]
    assert 'errors="1"' in junit.read_text() and "<error " in junit.read_text()
