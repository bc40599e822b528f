"""Durations and sizes as people write them, one parser each, the same in the CLI and the pytest plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nbrun.units import parse_duration, parse_size
from tests.support.flags import captured, run  # noqa: F401 - the flag -> options harness


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("1.5m", 90), ("5m", 300), ("1h", 3600), ("250ms", 0.25), ("2 min", 120)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1048576", 2**20),
        ("500K", 500 * 1024),
        ("10M", 10 * 2**20),
        ("10MB", 10 * 2**20),
        ("10MiB", 10 * 2**20),
        ("2g", 2 * 2**30),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["soon", "5x", "-1", ""])
def test_what_is_not_a_duration_or_size_says_so(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)


def test_the_cli_takes_units_and_zero_means_no_limit(tmp_path: Path, captured: dict[str, Any]) -> None:
    run(
        tmp_path,
        "--timeout",
        "5m",
        "--notebook-timeout",
        "1h",
        "--max-output-bytes",
        "10MB",
        "--interrupt-grace",
        "500ms",
    )
    (job,) = captured["jobs"]
    assert (job.options.timeout, job.options.notebook_timeout) == (300.0, 3600.0)
    assert job.options.max_output_bytes == 10 * 2**20 and job.options.interrupt_grace == 0.5
    run(tmp_path, "--timeout", "0")
    assert captured["jobs"][0].options.timeout is None


def test_the_plugin_reads_the_same_durations() -> None:
    from nbrun.pytest_plugin.settings import timeout_setting

    assert timeout_setting("5m") == 300 and timeout_setting("0") is None and timeout_setting(90) == 90


def test_a_status_prints_as_the_word_the_records_use() -> None:
    from nbrun.status import CellStatus, RunStatus

    assert (
        str(RunStatus.OK) == "ok"
        and f"{RunStatus.KERNEL_DIED}" == "kernel-died"
        and str(CellStatus.NOT_RUN) == "not-run"
    )
