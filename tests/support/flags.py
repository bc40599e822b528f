"""The flag -> options harness: run `nbrun run` in-process and keep the jobs it built instead of running them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from nbrun.cli import batch as cli_batch
from nbrun.cli import main
from nbrun.kernel import fork as fast_start
from nbrun.options import BatchOptions
from nbrun.runners.batch import BatchJob


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace the batch run: keep the jobs and batch options the command built."""
    seen: dict[str, Any] = {}

    def fake_execute_jobs(jobs: list[BatchJob], presentation: Any, options: BatchOptions, **kwargs: Any) -> int:
        seen.update(jobs=jobs, presentation=presentation, batch=options, **kwargs)
        return 0

    monkeypatch.setattr(cli_batch, "execute_jobs", fake_execute_jobs)
    monkeypatch.setattr(fast_start, "prelaunch", lambda preload=(): None)
    return seen


def run(tmp_path: Path, *args: str) -> None:
    path = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), path)
    result = CliRunner().invoke(main, ["run", str(path), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
