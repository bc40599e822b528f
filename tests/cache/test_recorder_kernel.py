"""The recorder inside a real kernel, through the API: what it sees, how it is installed, how it reports.

The command-level scenarios are in ``test_recorded_reads.py``; these pin the
mechanics that make it cheap (reads noted as written and resolved later, the
compiled recorder kept in the user cache, the report in a file) and the
fallbacks behind each.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

import nbrun
from nbrun import ExecuteOptions
from nbrun.execution import kernel_reads
from nbrun.execution.kernel_reads import REPORT_NAME, KernelReads
from tests.support.notebooks import make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
MKSTEMP = tempfile.mkstemp


@pytest.fixture(autouse=True)
def own_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def reads_of(folder: Path, *sources: str) -> KernelReads:
    result = nbrun.execute(make_notebook(*sources), ExecuteOptions(record_reads=True, cwd=folder))
    assert result.status.value == "ok", result.message
    reads = result.reports[REPORT_NAME]
    assert isinstance(reads, KernelReads)
    return reads


def test_relative_reads_mean_the_folder_they_were_read_in(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for path in (tmp_path / "a.txt", tmp_path / "sub" / "b.txt", tmp_path / "sub" / "a.txt"):
        path.write_text("x")
    reads = reads_of(tmp_path, "open('a.txt').read()\nimport os\nos.chdir('sub')\nopen('b.txt').read()")
    real = tmp_path.resolve()
    assert str(real / "a.txt") in reads.read and str(real / "sub" / "b.txt") in reads.read
    assert str(real / "sub" / "a.txt") not in reads.read


def test_thousands_of_reads_are_all_recorded(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    for number in range(5000):  # past the few thousand noted before they are made absolute
        (tmp_path / "data" / f"{number}.txt").write_text(str(number))
    reads = reads_of(tmp_path, "for n in range(5000):\n    open(f'data/{n}.txt').read()")
    recorded = {path for path in reads.read if "/data/" in path}
    assert recorded == {str(tmp_path.resolve() / "data" / f"{n}.txt") for n in range(5000)}


def test_the_compiled_recorder_is_kept_and_a_damaged_copy_replaced(tmp_path: Path, own_user_cache: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    expected = str(tmp_path.resolve() / "a.txt")
    assert expected in reads_of(tmp_path, "open('a.txt').read()").read
    [compiled] = (own_user_cache / "nbrun" / "recorder").glob("reads_recorder-*.marshal")
    kept = compiled.stat().st_mtime_ns
    assert expected in reads_of(tmp_path, "open('a.txt').read()").read  # from the kept copy
    assert compiled.stat().st_mtime_ns == kept
    compiled.write_bytes(b"not marshal data")
    assert expected in reads_of(tmp_path, "open('a.txt').read()").read  # from source again
    assert compiled.read_bytes() != b"not marshal data"


def report_file_named(path: Path) -> Callable[..., tuple[int, str]]:
    """A ``tempfile.mkstemp`` whose file nbrun reads is not the one it names to the kernel."""

    def make(prefix: str = "", suffix: str = "") -> tuple[int, str]:
        handle, name = MKSTEMP(prefix=prefix, suffix=suffix)
        os.unlink(name)
        return handle, str(path)

    return make


def test_a_report_file_the_kernel_cannot_write_falls_back_to_its_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text("x")
    monkeypatch.setattr(kernel_reads.tempfile, "mkstemp", report_file_named(tmp_path / "no-such-folder" / "r.json"))
    assert str(tmp_path.resolve() / "a.txt") in reads_of(tmp_path, "open('a.txt').read()").read


def test_a_report_file_written_where_nbrun_cannot_see_it_is_asked_for_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a kernel in a container of its own would: the file it writes is not the one nbrun made."""
    (tmp_path / "a.txt").write_text("x")
    monkeypatch.setattr(kernel_reads.tempfile, "mkstemp", report_file_named(tmp_path / "the-kernel's-own.json"))
    assert str(tmp_path.resolve() / "a.txt") in reads_of(tmp_path, "open('a.txt').read()").read
