"""Resources without a kernel: shards, -j auto by memory, merged records, sizes, the declared limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbrun.errors import UsageError
from nbrun.pipeline.core import declared_max_memory
from nbrun.reports.merged_records import merged_record
from nbrun.runners.history import PastRun, fit_jobs, history_from_record, shard
from nbrun.units import format_size
from tests.support.notebooks import make_notebook

GiB = 2**30


def test_shards_cover_every_notebook_once_and_balance_by_duration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    paths = [Path(f"nb{number:02d}.ipynb") for number in range(30)]
    by_hash = [shard(paths, index, 3, {}) for index in (1, 2, 3)]
    assert sorted(path for part in by_hash for path in part) == sorted(paths)
    assert all(part == [path for path in paths if path in part] for part in by_hash)  # each keeps the order given
    durations = {
        str(tmp_path / path): PastRun(duration=float((number * 7) % 23 + 1)) for number, path in enumerate(paths)
    }
    parts = [shard(paths, index, 3, durations) for index in (1, 2, 3)]
    assert sorted(path for part in parts for path in part) == sorted(paths)
    totals = [sum(durations[str(tmp_path / path)].duration or 0 for path in part) for part in parts]
    assert max(totals) <= 1.2 * min(totals), totals


def test_a_new_notebook_does_not_move_the_others_between_hash_shards(tmp_path: Path) -> None:
    paths = [tmp_path / f"nb{number}.ipynb" for number in range(12)]
    before = {path: index for index in (1, 2, 3, 4) for path in shard(paths, index, 4, {})}
    after = {path: index for index in (1, 2, 3, 4) for path in shard([*paths, tmp_path / "new.ipynb"], index, 4, {})}
    assert all(after[path] == before[path] for path in paths)


def test_auto_jobs_fit_the_heaviest_known_notebook_into_the_memory_available() -> None:
    paths = [Path("/a.ipynb"), Path("/b.ipynb")]
    heavy = {"/a.ipynb": PastRun(peak_memory=6 * GiB), "/b.ipynb": PastRun(peak_memory=GiB)}
    assert fit_jobs(8, paths, heavy, 13 * GiB)[0] == 2
    jobs, why = fit_jobs(8, paths, heavy, 5 * GiB)
    assert jobs == 1 and why is not None and "6 GiB" in why
    assert fit_jobs(8, paths, {}, 5 * GiB) == (8, None)  # nothing known: one per CPU


def test_a_durations_record_is_read_against_its_folder_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    record = tmp_path / "run.json"
    record.write_text(
        json.dumps({"cwd": str(tmp_path), "notebooks": [{"input": "a.ipynb", "duration": 2.5, "peak_memory": 9}]})
    )
    assert history_from_record(record) == {str(tmp_path / "a.ipynb"): PastRun(2.5, 9)}
    record.write_text("{not json")
    with pytest.raises(UsageError, match="not a JSON run record"):
        history_from_record(record)


def test_shard_records_merge_into_one_run() -> None:
    first = {"started": "2026-12-07T10:00:00Z", "duration": 10.0, "exit_code": 0, "totals": {"ok": 2}, "cached": 1,
             "notebooks": [{"input": "a", "exit_code": 0}, {"input": "b", "exit_code": 0}]}  # fmt: skip
    second = {"started": "2026-12-07T10:00:05Z", "duration": 20.0, "exit_code": 8, "totals": {"ok": 1, "out-of-memory": 1},
              "notebooks": [{"input": "c", "exit_code": 0}, {"input": "d", "exit_code": 8}]}  # fmt: skip
    merged = merged_record([first, second], ["1.json", "2.json"])
    assert [nb["input"] for nb in merged["notebooks"]] == ["a", "b", "c", "d"]
    assert merged["totals"] == {"ok": 3, "out-of-memory": 1} and merged["cached"] == 1
    assert merged["exit_code"] == 8 and merged["duration"] == 25.0 and merged["started"] == "2026-12-07T10:00:00Z"
    assert merged["merged_from"] == ["1.json", "2.json"]


def test_sizes_read_as_they_are_written() -> None:
    assert [format_size(size) for size in (512, 2048, 300 * 2**20, 3 * GiB // 2, 150 * GiB)] == [
        "512 B",
        "2 KiB",
        "300 MiB",
        "1.5 GiB",
        "150 GiB",
    ]


def test_the_notebook_declares_its_limit() -> None:
    nb = make_notebook("1")
    nb.metadata["nbrun"] = {"max_memory": "2G"}
    assert declared_max_memory(nb) == 2 * GiB
    nb.metadata["nbrun"] = {"max_memory": "lots"}
    with pytest.raises(UsageError, match="is not a size such as 512M"):
        declared_max_memory(nb)


def test_the_tighter_of_the_flag_and_the_notebooks_limit_holds(tmp_path: Path) -> None:
    from nbrun.events import ExecutionObserver
    from nbrun.options import ExecuteOptions
    from nbrun.pipeline.core import FileRun, prepare

    nb = make_notebook("1")
    nb.metadata["nbrun"] = {"max_memory": "2G"}
    path = tmp_path / "nb.ipynb"

    def limit(flag: int | None) -> int | None:
        run = FileRun(path, path, ExecuteOptions(max_memory=flag))
        return prepare(run, nb, ExecutionObserver()).options.max_memory

    assert (limit(None), limit(GiB), limit(4 * GiB)) == (2 * GiB, GiB, 2 * GiB)
