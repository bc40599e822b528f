"""The CLI derives its options: every flag of `nbrun run` lands in one options field (no kernel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_notebook

from nbrun.cli import main
from nbrun.options import DEFAULT_MAX_OUTPUT_BYTES, BatchOptions, ExecuteOptions, FileOptions
from tests.support.flags import captured, run  # noqa: F401 - the flag -> options harness


def test_defaults_are_the_options_defaults(tmp_path: Path, captured: dict[str, Any]) -> None:
    run(tmp_path)
    (job,) = captured["jobs"]
    assert job.options == ExecuteOptions(parameters=None)
    assert job.file_options == FileOptions()
    assert captured["batch"] == BatchOptions()
    assert job.options.max_output_bytes == DEFAULT_MAX_OUTPUT_BYTES


def test_every_flag_maps_to_one_field(tmp_path: Path, captured: dict[str, Any]) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("yes\nno\n")
    run(
        tmp_path,
        "-j",
        "3",
        "--fail-fast",
        "-o",
        str(tmp_path / "out.ipynb"),
        "-k",
        "python3",
        "--cwd",
        str(tmp_path),
        "--timeout",
        "2.5",
        "--notebook-timeout",
        "30",
        "--startup-timeout",
        "9",
        "--interrupt-grace",
        "0.5",
        "--allow-errors",
        "--restart-on-death",
        "--max-output-bytes",
        "1000",
        "--autosave",
        "4",
        "--stdin-file",
        str(answers),
        "--extract-images",
        str(tmp_path / "img"),
        "--strip-images",
        "--strict-images",
        "--force",
        "--no-fast-start",
        "--preload",
        "json, csv",
        "-p",
        "n",
        "3",
        "-r",
        "s",
        "3",
        "--strict-params",
    )
    (job,) = captured["jobs"]
    assert job.target == tmp_path / "out.ipynb"
    assert job.options == ExecuteOptions(
        kernel_name="python3",
        cwd=tmp_path.resolve(),
        timeout=2.5,
        notebook_timeout=30.0,
        startup_timeout=9.0,
        interrupt_grace=0.5,
        allow_errors=True,
        restart_on_death=True,
        max_output_bytes=1000,
        stdin_lines=("yes", "no"),
        parameters={"n": 3, "s": "3"},
        strict_parameters=True,
    )
    assert job.file_options == FileOptions(
        autosave_seconds=4.0,
        extract_images=tmp_path / "img",
        strip_images=True,
        strict_images=True,
        overwrite_images=True,
    )
    assert captured["batch"] == BatchOptions(max_parallel=3, fail_fast=True, fast_start=False, preload=("json", "csv"))


@pytest.mark.parametrize(
    ("flag", "value"), [("--timeout", "-1"), ("--timeout", "soon"), ("--startup-timeout", "0")]
)  # --timeout 0 means no limit, as in the pytest plugin (tests/core/test_units.py)
def test_seconds_must_be_positive(tmp_path: Path, captured: dict[str, Any], flag: str, value: str) -> None:
    path = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(), path)
    result = CliRunner().invoke(main, ["run", str(path), flag, value])
    assert result.exit_code == 2 and flag in result.stderr
    assert "jobs" not in captured


def test_later_flags_map_to_their_fields_too(tmp_path: Path, captured: dict[str, Any]) -> None:
    from nbrun.cache import CacheSettings

    run(
        tmp_path,
        "--transport",
        "tcp",
        "--prestart",
        "1",
        "--html",
        "--report-mode",
        "--cache",
        str(tmp_path / "c"),
        "--rerun-failed",
        "--cache-input",
        "data/*.csv",
    )
    (job,) = captured["jobs"]
    assert job.options == ExecuteOptions(transport="tcp")
    assert job.file_options == FileOptions(
        report_mode=True,
        write_html=True,
        cache=CacheSettings((tmp_path / "c").resolve(), rerun_failed=True, extra_inputs=("data/*.csv",)),
    )
    assert captured["batch"] == BatchOptions(prestart=1)
