"""Faults inflicted on real ipykernel kernels and real files.

Each test breaks something for real (the kernel dies, hangs, ignores
SIGINT, floods its output, cannot start, the disk refuses the write) and
checks what a user of ``nbrun run`` would see: the exit code, the notebook
written on disk, the stderr message, and that no kernel process is left.

Measured figures are printed with a ``FIGURE`` prefix (run with ``-s``).
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

import nbrun
from nbrun import ExecuteOptions, RunStatus
from tests.support.load import within
from tests.support.notebooks import make_notebook
from tests.support.procs import kernel_pids, pids_with, wait_gone

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]

HELPERS = Path(__file__).resolve().parents[1] / "support" / "scripts"
NBRUN = [sys.executable, "-m", "nbrun.cli", "run"]
PYTHON_TRACEBACK = "Traceback (most recent call last):"
MiB = 1024 * 1024
# First line of most notebooks here: the kernel tells its pid so the test can
# prove, by pid, that the process is gone afterwards.
PID_CELL = "import os, signal, sys, time\nprint('PID=%d' % os.getpid())"


def figure(text: str) -> None:
    print(f"\nFIGURE: {text}", flush=True)


def cli(*args: str, timeout: float = 60, **popen: object) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``nbrun run ARGS`` in a subprocess; return the process and its wall time."""
    start = time.monotonic()
    proc = subprocess.run([*NBRUN, *args], capture_output=True, text=True, timeout=within(timeout), **popen)  # type: ignore[call-overload]
    return proc, time.monotonic() - start


def lines_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def one_line(text: str) -> str:
    lines = lines_of(text)
    assert len(lines) == 1, f"expected one line, got:\n{text}"
    return lines[0]


def assert_no_python_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert PYTHON_TRACEBACK not in proc.stderr, proc.stderr
    assert PYTHON_TRACEBACK not in proc.stdout, proc.stdout


def stream_text(cell: nbformat.NotebookNode, name: str = "stdout") -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == name)


def kernel_pids_in(nb: nbformat.NotebookNode) -> set[int]:
    """Pids the kernels printed with PID_CELL."""
    pids = set()
    for cell in nb.cells:
        for line in stream_text(cell).splitlines():
            if line.startswith("PID="):
                pids.add(int(line[4:]))
    return pids


def assert_kernels_gone(nb: nbformat.NotebookNode, expected: int = 1) -> None:
    pids = kernel_pids_in(nb)
    assert len(pids) == expected, pids
    assert wait_gone(pids, 5.0) == set(), f"kernel processes still alive: {pids}"


def parse_utc(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def write(path: Path, *sources: str) -> Path:
    nbformat.write(make_notebook(*sources), path)
    return path


# -- kernel death ----------------------------------------------------------------

DEATHS = {
    # name: (code that kills the kernel, returncode, signal name, words in the reason)
    "os-exit-3": ("os._exit(3)", 3, None, ["exited with code 3"]),
    "sigkill": ("os.kill(os.getpid(), signal.SIGKILL)", -9, "SIGKILL", ["SIGKILL", "possibly out of memory"]),
    "segfault": ("import ctypes\nctypes.string_at(0)", -11, "SIGSEGV", ["SIGSEGV"]),
}


@pytest.mark.parametrize("kind", sorted(DEATHS))
def test_kernel_death_is_noticed_recorded_and_exit_4(tmp_path: Path, kind: str) -> None:
    code, returncode, signame, words = DEATHS[kind]
    stamp = tmp_path / "died_at"
    # ipykernel captures fd 2 through a pipe read by a thread: what a process
    # writes there in its very last instant is lost with it. The short sleep
    # lets the last words reach the kernel's log before the death.
    dying = (
        "os.write(2, b'last words before dying\\n')\ntime.sleep(0.5)\n"
        f"with open({str(stamp)!r}, 'w') as stamp:\n    stamp.write(repr(time.time()))\n{code}"
    )
    path = write(tmp_path / "dies.ipynb", PID_CELL + "\nx = 1", dying, "print('never')")
    proc, elapsed = cli(str(path))
    assert proc.returncode == 4, proc.stderr
    assert_no_python_traceback(proc)
    line = one_line(proc.stderr)
    assert "dies.ipynb" in line and "kernel died" in line

    nb = nbformat.read(path, 4)
    meta = nb.metadata.nbrun
    assert meta["status"] == "kernel-died" and meta["failed_cell"] == 1
    exit_info = meta["kernel_exit"]
    assert exit_info["returncode"] == returncode and exit_info["signal"] == signame
    assert "last words before dying" in exit_info["stderr_tail"]
    for word in words:
        assert word in exit_info["reason"] and word in meta["message"]

    dead = nb.cells[1]
    assert dead.metadata.nbrun["status"] == "kernel-died"
    assert dead.metadata.nbrun["kernel_exit"] == exit_info
    [error] = [o for o in dead.outputs if o.output_type == "error"]
    assert error.evalue.startswith("[nbrun]")
    for word in words:
        assert word in error.evalue
    assert nb.cells[2].metadata.nbrun == {"status": "not-run"} and nb.cells[2].outputs == []

    # Upper bound on the time to notice: from the death to the end of the run
    # (which also includes recording the cell and releasing the kernel).
    noticed = parse_utc(meta["end"]) - float(stamp.read_text())
    figure(f"kernel death ({kind}) noticed within {noticed:.3f} s (death -> run end); whole CLI run {elapsed:.2f} s")
    assert 0 <= noticed < 2.0
    assert_kernels_gone(nb)


def test_restart_on_death_continues_in_a_fresh_kernel(tmp_path: Path) -> None:
    path = write(
        tmp_path / "restart.ipynb",
        PID_CELL + "\nx = 1",
        "import os\nos._exit(3)",
        PID_CELL + "\nprint('x' in globals())",
        "print('after restart')",
    )
    proc, _ = cli(str(path), "--restart-on-death")
    assert proc.returncode == 4, proc.stderr  # the run went on, but a restart is not a success
    assert_no_python_traceback(proc)
    nb = nbformat.read(path, 4)
    assert nb.metadata.nbrun["status"] == "kernel-died" and nb.metadata.nbrun["failed_cell"] == 1
    assert "restarted once" in nb.metadata.nbrun["message"]
    assert nb.metadata.nbrun["kernel_restarts"] == 1
    died = nb.cells[1].metadata.nbrun
    assert died["status"] == "kernel-died" and died["kernel_exit"]["returncode"] == 3
    assert "kernel_restarted" in died and "restarted" in died["actions"]
    assert stream_text(nb.cells[2]).splitlines()[-1] == "False"  # x is gone: a fresh kernel
    assert stream_text(nb.cells[3]) == "after restart\n"
    assert_kernels_gone(nb, expected=2)


# -- timeouts ----------------------------------------------------------------------


def test_cell_timeout_interrupts_the_kernel_exit_3(tmp_path: Path) -> None:
    path = write(tmp_path / "slow.ipynb", PID_CELL + "\ntime.sleep(30)", "print('next')")
    proc, elapsed = cli(str(path), "--timeout", "1")
    assert proc.returncode == 3, proc.stderr
    assert elapsed < within(10)
    assert_no_python_traceback(proc)
    assert "timed out after" in proc.stderr
    nb = nbformat.read(path, 4)
    meta = nb.metadata.nbrun
    assert meta["status"] == "timeout" and meta["failed_cell"] == 0 and "timed out after" in meta["message"]
    cell = nb.cells[0]
    assert cell.metadata.nbrun["status"] == "timeout" and cell.metadata.nbrun["actions"] == ["interrupted"]
    assert [o.ename for o in cell.outputs if o.output_type == "error"] == ["KeyboardInterrupt"]
    assert nb.cells[1].metadata.nbrun == {"status": "not-run"}
    assert_kernels_gone(nb)


IGNORES_SIGINT = PID_CELL + "\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"


def test_timeout_on_a_kernel_ignoring_sigint_kills_it(tmp_path: Path) -> None:
    path = write(tmp_path / "deaf.ipynb", IGNORES_SIGINT, "print('next')")
    proc, elapsed = cli(str(path), "--timeout", "1", "--interrupt-grace", "1")
    assert proc.returncode == 3, proc.stderr
    figure(f"timeout 1 s + grace 1 s on a SIGINT-deaf kernel: CLI exited after {elapsed:.2f} s")
    assert elapsed < within(8)
    assert_no_python_traceback(proc)
    nb = nbformat.read(path, 4)
    assert nb.metadata.nbrun["status"] == "timeout"
    assert nb.cells[0].metadata.nbrun["actions"] == ["interrupted", "killed"]
    assert nb.cells[1].metadata.nbrun == {"status": "not-run"}
    assert_kernels_gone(nb)


def test_timeout_kill_with_allow_errors_restarts_and_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path / "deaf.ipynb", IGNORES_SIGINT, PID_CELL + "\nprint('next ran')")
    proc, elapsed = cli(str(path), "--timeout", "1", "--interrupt-grace", "1", "--allow-errors")
    assert proc.returncode == 0, proc.stderr
    assert elapsed < within(10)
    nb = nbformat.read(path, 4)
    assert nb.metadata.nbrun["status"] == "ok" and nb.metadata.nbrun["kernel_restarts"] == 1
    first = nb.cells[0].metadata.nbrun
    assert first["status"] == "timeout" and first["actions"] == ["interrupted", "killed", "restarted"]
    assert "kernel_restarted" in first
    assert stream_text(nb.cells[1]).endswith("next ran\n")
    assert_kernels_gone(nb, expected=2)


def test_notebook_timeout_exit_3(tmp_path: Path) -> None:
    path = write(tmp_path / "many.ipynb", PID_CELL + "\ntime.sleep(1)", *["time.sleep(1)"] * 5)
    proc, elapsed = cli(str(path), "--notebook-timeout", "2")
    assert proc.returncode == 3, proc.stderr
    assert elapsed < within(10)
    assert_no_python_traceback(proc)
    assert "notebook timed out after 2 s" in proc.stderr
    nb = nbformat.read(path, 4)
    meta = nb.metadata.nbrun
    assert meta["status"] == "timeout" and "notebook timed out" in meta["message"]
    assert meta["timeout"]["limit"] == "notebook timeout"
    failed = meta["failed_cell"]
    assert failed in (1, 2)  # 2 s of 1 s cells: the second (or, on a slow machine, third) cell hits the limit
    assert all(cell.metadata.nbrun == {"status": "not-run"} for cell in nb.cells[failed + 1 :])
    assert_kernels_gone(nb)


# -- kernel start failures -----------------------------------------------------------


def _kernelspec(root: Path, name: str, argv: list[str]) -> None:
    folder = root / "kernels" / name
    folder.mkdir(parents=True)
    spec = {"argv": argv, "display_name": name, "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))


def _pids_with(marker: str) -> set[int]:
    return pids_with(marker)


@pytest.fixture(scope="module")
def slowpoke_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One CLI run against a kernel that needs 30 s to start, with --startup-timeout 2."""
    root = tmp_path_factory.mktemp("slowpoke")
    marker = f"slowpoke-{uuid.uuid4().hex}"
    argv = [sys.executable, str(HELPERS / "slow_kernel.py"), "30", marker, "-f", "{connection_file}"]
    _kernelspec(root / "jupyter", "slowpoke", argv)
    path = write(root / "needs_slowpoke.ipynb", "print(1)")
    before = path.read_bytes()
    env = {**os.environ, "JUPYTER_PATH": str(root / "jupyter")}
    kernels_before = kernel_pids()
    proc, elapsed = cli(str(path), "-k", "slowpoke", "--startup-timeout", "2", env=env)
    return {
        "proc": proc,
        "elapsed": elapsed,
        "unchanged": path.read_bytes() == before,
        "left": wait_gone(_pids_with(marker), 3.0) | (kernel_pids() - kernels_before),
    }


def test_startup_timeout_exit_4_retried_once_nothing_left(slowpoke_run: dict[str, object]) -> None:
    proc = slowpoke_run["proc"]
    assert isinstance(proc, subprocess.CompletedProcess)
    elapsed = slowpoke_run["elapsed"]
    figure(f"--startup-timeout 2 (two attempts): CLI exited after {elapsed:.2f} s")
    assert proc.returncode == 4, proc.stderr
    assert 3.8 <= elapsed < within(12)  # two attempts of 2 s each, then give up
    assert_no_python_traceback(proc)
    assert "did not answer within 2 s" in lines_of(proc.stderr)[-1]
    assert slowpoke_run["unchanged"] is True
    assert slowpoke_run["left"] == set()


def test_startup_timeout_message_is_one_line_naming_the_notebook(slowpoke_run: dict[str, object]) -> None:
    proc = slowpoke_run["proc"]
    assert isinstance(proc, subprocess.CompletedProcess)
    line = one_line(proc.stderr)
    assert "needs_slowpoke.ipynb" in line and "did not answer within 2 s" in line


def test_kernel_failing_its_first_start_is_retried(tmp_path: Path) -> None:
    state = tmp_path / "flaky-state"
    argv = [sys.executable, str(HELPERS / "flaky_kernel.py"), str(state), "-f", "{connection_file}"]
    _kernelspec(tmp_path / "jupyter", "flaky", argv)
    path = write(tmp_path / "flaky.ipynb", PID_CELL)
    env = {**os.environ, "JUPYTER_PATH": str(tmp_path / "jupyter")}
    proc, _ = cli(str(path), "-k", "flaky", env=env)
    assert proc.returncode == 0, proc.stderr
    assert_no_python_traceback(proc)
    assert state.read_text() == "failed once\nstarted\n"
    nb = nbformat.read(path, 4)
    assert nb.metadata.nbrun["status"] == "ok"
    assert_kernels_gone(nb)


def test_kernel_that_never_starts_exit_4_one_line(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-c",
        "import sys; sys.stderr.write('broken kernel: missing library\\n'); sys.exit(1)",
        "-f",
        "{connection_file}",
    ]
    _kernelspec(tmp_path / "jupyter", "broken", argv)
    path = write(tmp_path / "needs_broken.ipynb", "print(1)")
    before = path.read_bytes()
    env = {**os.environ, "JUPYTER_PATH": str(tmp_path / "jupyter")}
    proc, elapsed = cli(str(path), "-k", "broken", env=env)
    assert proc.returncode == 4, proc.stderr
    assert elapsed < within(15)
    assert_no_python_traceback(proc)
    line = one_line(proc.stderr)
    assert "needs_broken.ipynb" in line and "broken kernel: missing library" in line
    assert path.read_bytes() == before


# -- autosave ----------------------------------------------------------------------------


def test_autosave_writes_whole_valid_snapshots_during_the_run(tmp_path: Path) -> None:
    path = write(tmp_path / "autosave.ipynb", PID_CELL + "\nprint('early')", "time.sleep(4)")
    out = tmp_path / "out.ipynb"
    proc = subprocess.Popen([*NBRUN, str(path), "-o", str(out), "--autosave", "0.5"], stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    reads, running_reads, inodes = 0, [], set()
    try:
        while proc.poll() is None and time.monotonic() - start < 30:
            try:
                data = out.read_bytes()
                inode = out.stat().st_ino
            except FileNotFoundError:
                time.sleep(0.05)
                continue
            nb = json.loads(data)  # never half-written: every read parses
            reads += 1
            if nb["metadata"].get("nbrun", {}).get("status") == "running" and proc.poll() is None:
                running_reads.append((time.monotonic() - start, nb))
                inodes.add(inode)
            time.sleep(0.05)
        stderr = proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert reads >= 20
    early = [
        t
        for t, nb in running_reads
        if nb["cells"][0]["outputs"] and "early" in "".join(nb["cells"][0]["outputs"][0]["text"])
    ]
    assert early, "no autosaved snapshot showed cell 0's output while the run went on"
    assert early[-1] - early[0] >= 1.5, "autosave stopped during the silent sleep"
    assert len(inodes) >= 3  # rewritten (atomically, by replacing the file) several times
    figure(f"autosave: {reads} reads every 50 ms, all valid JSON; {len(inodes)} distinct autosaves seen while running")
    final = nbformat.read(out, 4)
    assert final.metadata.nbrun["status"] == "ok"
    assert stream_text(final.cells[0]).endswith("early\n")
    assert_kernels_gone(final)


# -- output floods ---------------------------------------------------------------------------


def run_measuring_rss(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run the CLI through helpers/rss_wrapper.py; return (process, seconds, nbrun's peak RSS in MB)."""
    rss_file = tmp_path / "rss.txt"
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(HELPERS / "rss_wrapper.py"), str(rss_file), "run", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - start
    return proc, elapsed, int(rss_file.read_text()) / 1024  # VmHWM, in KiB


FLOODS = {
    # name: (cell source, bytes printed, RSS bound in MB)
    # 10**6 lines of 19 bytes: short lines, yet more than the 10 MiB kept.
    "1e6-short-lines": ("for i in range(10**6):\n    print('short line %07d' % i)", 10**6 * 19, 200),
    "200MB-as-2e6-lines": (
        "line = 'y' * 99 + '\\n'\nfor i in range(2_000_000):\n    sys.stdout.write(line)",
        200_000_000,
        200,
    ),
    # One 200 MB write reaches nbrun as ONE 200 MB IOPub message. Decoded whole it
    # costs ~4 copies (814 MB measured); nbrun decodes only the prefix it can
    # keep (nbrun/kernel/iopub.py), so the zmq frame itself (200 MB) is most of the peak.
    "200MB-single-write": ("_ = sys.stdout.write('x' * 200_000_000)", 200_000_000, 400),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(FLOODS))
def test_output_flood_is_truncated_with_a_marker_and_memory_stays_bounded(tmp_path: Path, kind: str) -> None:
    source, printed, rss_bound = FLOODS[kind]
    path = write(tmp_path / "flood.ipynb", PID_CELL + "\n" + source, "print('next cell ran')")
    out = tmp_path / "out.ipynb"
    proc, elapsed, rss_mb = run_measuring_rss(tmp_path, str(path), "-o", str(out))
    figure(
        f"flood {kind}: nbrun peak RSS {rss_mb:.0f} MB, CLI run {elapsed:.1f} s, output file {out.stat().st_size / MiB:.1f} MiB"
    )
    assert proc.returncode == 0, proc.stderr
    assert_no_python_traceback(proc)
    nb = nbformat.read(out, 4)
    cell = nb.cells[0]
    kept = sum(len(o.text) for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
    assert 10 * MiB - 100 <= kept <= 10 * MiB  # the default --max-output-bytes
    marker = cell.outputs[-1]
    assert marker.output_type == "stream" and marker.name == "stderr"
    assert marker.text.startswith("[nbrun] output truncated")
    dropped = cell.metadata.nbrun["truncated"]["dropped_bytes"]
    pid_line = len(stream_text(cell).split("\n", 1)[0]) + 1
    assert dropped == printed + pid_line - kept
    assert f"{dropped:,}" in marker.text
    assert stream_text(nb.cells[1]) == "next cell ran\n"
    assert rss_mb < rss_bound
    assert_kernels_gone(nb)


def test_output_up_to_the_last_moment_is_all_kept() -> None:
    nb = make_notebook("for i in range(100_000):\n    print(i)", "print('done')")
    result = nbrun.execute(nb, ExecuteOptions())
    assert result.status is RunStatus.OK
    lines = stream_text(nb.cells[0]).splitlines()
    assert len(lines) == 100_000 and lines[-1] == "99999"
    assert "status" not in nb.cells[0].metadata.get("nbrun", {})  # ok: only what it used


def test_max_output_bytes_counts_bytes_not_characters() -> None:
    nb = make_notebook("print('\\u20ac' * 3000)")  # 3000 euro signs: 9000 bytes of UTF-8
    nbrun.execute(nb, ExecuteOptions(max_output_bytes=1000))
    kept = stream_text(nb.cells[0])
    assert nb.cells[0].metadata.nbrun["truncated"]
    assert len(kept.encode("utf-8")) <= 1000


# -- stdin -----------------------------------------------------------------------------------


def test_stdin_file_answers_in_order_and_exhaustion_fails_the_cell(tmp_path: Path) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("alpha\nbeta\n")
    path = write(
        tmp_path / "asks.ipynb",
        PID_CELL + "\na = input('first? ')\nb = input('second? ')\nprint(a, b)",
        "c = input('third? ')",
        "print('never')",
    )
    proc, elapsed = cli(str(path), "--stdin-file", str(answers))
    assert proc.returncode == 1, proc.stderr
    assert elapsed < within(15)  # never a hang
    assert "cell 2 (index 1" in proc.stderr
    nb = nbformat.read(path, 4)
    assert "alpha beta\n" in stream_text(nb.cells[0])
    meta = nb.cells[1].metadata.nbrun
    assert meta["status"] == "error" and meta["stdin_exhausted"] is True
    assert [o.output_type for o in nb.cells[1].outputs][-1] == "error"
    assert nb.cells[2].metadata.nbrun == {"status": "not-run"}
    assert_kernels_gone(nb)


# -- writing the result ------------------------------------------------------------------------


def _small_file_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def test_full_disk_on_in_place_write_exit_5_input_intact(tmp_path: Path) -> None:
    folder = tmp_path / "nbs"
    folder.mkdir()
    path = write(folder / "chatty.ipynb", "for i in range(5000):\n    print('line %05d' % i)")  # ~55 KB of output
    before = path.read_bytes()
    assert len(before) < 2048
    proc, _ = cli(str(path), preexec_fn=_small_file_limit)
    assert proc.returncode == 5, proc.stderr
    assert_no_python_traceback(proc)
    line = one_line(proc.stderr)
    assert "chatty.ipynb" in line
    assert path.read_bytes() == before
    assert sorted(os.listdir(folder)) == ["chatty.ipynb"]  # no *.nbrun-tmp left behind
