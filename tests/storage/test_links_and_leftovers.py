"""Issue 12 defects 5, 8, 9: links written through, outputs checked early, leftovers cleaned."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from nbrun.cli import main
from nbrun.notebook.files import write_notebook
from tests.support.load import within
from tests.support.notebooks import make_notebook

posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks and modes as on POSIX")


def invoke(*args: str):
    return CliRunner().invoke(main, ["run", *args], catch_exceptions=False)


@posix_only
@pytest.mark.kernel
def test_in_place_run_of_a_symlink_executes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    target = real / "target.ipynb"
    nbformat.write(make_notebook("print('ran')"), target)
    target.chmod(0o640)
    link = tmp_path / "link.ipynb"
    link.symlink_to(Path("real") / "target.ipynb")
    result = invoke(str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / "target.ipynb")
    assert nbformat.read(target, 4).cells[0].outputs[0].text == "ran\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in real.iterdir()] == ["target.ipynb"]  # the temp file lived beside the target
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@posix_only
def test_write_through_a_chain_of_links_and_a_dangling_link(tmp_path: Path) -> None:
    target = tmp_path / "t.ipynb"
    nbformat.write(make_notebook("1"), target)
    (tmp_path / "a.ipynb").symlink_to("t.ipynb")
    (tmp_path / "b.ipynb").symlink_to("a.ipynb")
    write_notebook(make_notebook("2"), tmp_path / "b.ipynb")
    assert (tmp_path / "b.ipynb").is_symlink() and (tmp_path / "a.ipynb").is_symlink()
    assert nbformat.read(target, 4).cells[0].source == "2"
    (tmp_path / "dangling.ipynb").symlink_to("made.ipynb")
    write_notebook(make_notebook("3"), tmp_path / "dangling.ipynb")
    assert (tmp_path / "dangling.ipynb").is_symlink()
    assert nbformat.read(tmp_path / "made.ipynb", 4).cells[0].source == "3"


@posix_only
def test_a_hard_linked_file_is_reported_as_unlinked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = tmp_path / "first.ipynb"
    nbformat.write(make_notebook("1"), first)
    os.link(first, tmp_path / "second.ipynb")
    with caplog.at_level(logging.WARNING, logger="nbrun"):
        write_notebook(make_notebook("2"), first)
    assert nbformat.read(first, 4).cells[0].source == "2"
    assert any("hard link" in record.getMessage() and "second" not in record.getMessage() for record in caplog.records)


@pytest.mark.kernel
def test_output_naming_a_directory_is_refused_before_the_kernel_starts(tmp_path: Path) -> None:
    marker = tmp_path / "side-effect"
    source = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook(f"open({str(marker)!r}, 'w').close()"), source)
    (tmp_path / "outdir").mkdir()
    result = invoke(str(source), "-o", str(tmp_path / "outdir"))
    assert result.exit_code == 5 and "directory" in result.stderr
    assert not marker.exists()
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    result = invoke(str(source), "-o", str(blocked / "out.ipynb"))
    assert result.exit_code == 5, result.stderr
    assert not marker.exists()


@posix_only
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder_is_refused_before_the_kernel_starts(tmp_path: Path) -> None:
    marker = tmp_path / "side-effect"
    source = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook(f"open({str(marker)!r}, 'w').close()"), source)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = invoke(str(source), "-o", str(locked / "out.ipynb"))
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 5
    assert not marker.exists()


def test_writable_check_unit(tmp_path: Path) -> None:
    from nbrun.errors import NotebookWriteError
    from nbrun.storage.atomic import check_writable

    check_writable(tmp_path / "new" / "deeper" / "out.ipynb")  # creatable: fine, nothing created
    assert not (tmp_path / "new").exists()
    with pytest.raises(NotebookWriteError, match="directory"):
        check_writable(tmp_path)


@pytest.mark.kernel
def test_images_folder_that_is_a_file_is_refused_before_the_kernel_starts(tmp_path: Path) -> None:
    marker = tmp_path / "side-effect"
    source = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook(f"open({str(marker)!r}, 'w').close()"), source)
    (tmp_path / "imgs").write_text("a file")
    result = invoke(str(source), "--extract-images", str(tmp_path / "imgs" / "sub"))
    assert result.exit_code == 5, result.stderr
    assert not marker.exists()


def dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@posix_only
def test_leftovers_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    from nbrun.storage.leftovers import sweep_sessions_once

    gone = dead_pid()
    (tmp_path / f"nbrun-{gone}-abc123").mkdir()
    (tmp_path / f"nbrun-{gone}-abc123" / "kernel.json").write_text("{}")
    (tmp_path / f"nbrun-{os.getpid()}-live").mkdir()
    (tmp_path / "nbrun-unrelated").mkdir()
    assert sweep_sessions_once(tmp_path) == [tmp_path / f"nbrun-{gone}-abc123"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"nbrun-{os.getpid()}-live", "nbrun-unrelated"]
    stale = tmp_path / f".out.ipynb.{gone}.x1y2z3.nbrun-tmp"
    live = tmp_path / f".out.ipynb.{os.getpid()}.q9r8.nbrun-tmp"
    other = tmp_path / f".other.ipynb.{gone}.x1y2z3.nbrun-tmp"
    for path in (stale, live, other):
        path.write_text("half")
    write_notebook(make_notebook("1"), tmp_path / "out.ipynb")
    assert not stale.exists() and live.exists() and other.exists()


@posix_only
@pytest.mark.kernel
def test_sigkilled_nbrun_is_recognisable_and_its_session_folder_is_swept(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    source = tmp_path / "slow.ipynb"
    nbformat.write(make_notebook("print('started', flush=True)", "import time; time.sleep(60)"), source)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbrun.cli", "run", str(source), "--autosave", "0.2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + within(60)
    try:
        while time.monotonic() < deadline:
            record = nbformat.read(source, 4).metadata.get("nbrun", {})
            if record.get("status") == "running" and nbformat.read(source, 4).cells[0].outputs:
                break
            time.sleep(0.2)
        else:
            pytest.fail("no autosave seen")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    record = nbformat.read(source, 4).metadata.nbrun
    assert record["status"] == "running" and record["pid"] == proc.pid and record["host"]
    assert [p.name for p in temp.iterdir() if p.name.startswith(f"nbrun-{proc.pid}-")]
    nbformat.write(make_notebook("1"), tmp_path / "quick.ipynb")
    again = subprocess.run(
        [sys.executable, "-m", "nbrun.cli", "run", str(tmp_path / "quick.ipynb")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert not [p for p in temp.iterdir() if p.name.startswith(f"nbrun-{proc.pid}-")]
