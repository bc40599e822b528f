"""Options by scope: each dataclass validates its own fields (no kernel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbrun.options import BatchOptions, ExecuteOptions, FileOptions


@pytest.mark.parametrize(
    "changes",
    [
        {"timeout": 0},
        {"notebook_timeout": -1},
        {"startup_timeout": 0},
        {"interrupt_grace": 0},
        {"iopub_silence_timeout": 0},
        {"max_output_bytes": 0},
    ],
)
def test_execute_options_refuse_non_positive_limits(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(changes))):
        ExecuteOptions(**changes)  # type: ignore[arg-type]


def test_paths_are_normalised() -> None:
    assert ExecuteOptions(cwd="here").cwd == Path("here")  # type: ignore[arg-type]
    assert FileOptions(extract_images="img").extract_images == Path("img")  # type: ignore[arg-type]


def test_file_options_validate_their_own_fields() -> None:
    with pytest.raises(ValueError, match="autosave_seconds"):
        FileOptions(autosave_seconds=0)
    with pytest.raises(ValueError, match="strip_images needs extract_images"):
        FileOptions(strip_images=True)
    options = FileOptions(extract_images=Path("img"))
    assert options.with_changes(extract_images=Path("img/sub")).extract_images == Path("img/sub")


def test_batch_options_need_one_job() -> None:
    with pytest.raises(ValueError, match="max_parallel"):
        BatchOptions(max_parallel=0)
    assert BatchOptions() == BatchOptions(max_parallel=1, fail_fast=False, fast_start=True, preload=())
