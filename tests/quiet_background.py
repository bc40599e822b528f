"""Long quiet cells, run in the background for the whole test session.

Cells that sleep 10 to 65 s, then bursts of 100k displays after a 10 s quiet
cell, through every way nbrun runs a notebook: a batch with fast start over
IPC, a batch without fast start over TCP, and ``pytest --nbrun``. They start
when the session's collection finishes (``conftest.pytest_collection_finish``)
and take no CPU while they sleep, so the session is not longer for them;
``test_quiet_cells`` waits for them at its end.

The runs carry their own test-session marker, so the kernel-leak checks of
the tests that run meanwhile never count their kernels.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from conftest import make_notebook
from procs import MARKER

QUIET_SECONDS = (10, 12, 15, 31, 65)
BURST = 100_000
BURST_CELLS = (
    "import time; time.sleep(10)",
    f"from IPython.display import display\nfor i in range({BURST}):\n    display(i)",
)
NBRUN = str(Path(sys.executable).parent / "nbrun")

_runs: dict[str, tuple[subprocess.Popen[str], Path | None]] = {}
_root: Path | None = None


def start() -> None:
    """Write the notebooks and start the runs (once)."""
    global _root
    if _root is not None:
        return
    _root = Path(tempfile.mkdtemp(prefix="nbrun-quiet-"))
    quiet = _root / "quiet"
    quiet.mkdir()
    for seconds in QUIET_SECONDS:
        nbformat.write(
            make_notebook(f"import time; time.sleep({seconds})", "print('done')"), quiet / f"q{seconds}.ipynb"
        )
    nbformat.write(make_notebook(*BURST_CELLS), quiet / "burst.ipynb")
    tcp = _root / "tcp"
    tcp.mkdir()
    nbformat.write(make_notebook(*BURST_CELLS), tcp / "burst.ipynb")
    nbformat.write(make_notebook("import time; time.sleep(10)"), tcp / "q10.ipynb")
    plugin = _root / "plugin"
    plugin.mkdir()
    nbformat.write(make_notebook(*BURST_CELLS), plugin / "burst.ipynb")
    env = {**os.environ, MARKER: f"background-{os.getpid()}"}
    _launch(
        "fast start, IPC, -j 6",
        [NBRUN, "run", str(quiet), "-j", str(len(QUIET_SECONDS) + 1), "--output-dir", str(_root / "out-fast")],
        env,
        _root / "fast.json",
    )
    _launch(
        "no fast start, TCP, -j 2",
        [
            NBRUN,
            "run",
            str(tcp),
            "-j",
            "2",
            "--no-fast-start",
            "--transport",
            "tcp",
            "--output-dir",
            str(_root / "out-tcp"),
        ],
        env,
        _root / "tcp.json",
    )
    _launch(
        "pytest --nbrun",
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbrun",
            "-p",
            "no:cacheprovider",
            "-q",
            "-o",
            "addopts=",
            "-o",
            "timeout=600",
            "--rootdir",
            str(plugin),
            str(plugin),
        ],
        env,
        None,
    )


def _launch(name: str, argv: list[str], env: dict[str, str], record: Path | None) -> None:
    if record is not None:
        argv = [*argv, "--json", str(record)]
    _runs[name] = (
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=_root),
        record,
    )


def wait(timeout: float) -> dict[str, tuple[int, str, dict[str, Any] | None]]:
    """Each run's exit code, output and JSON record (None for pytest)."""
    start()
    deadline = time.monotonic() + timeout
    results = {}
    for name, (process, record) in _runs.items():
        output, _ = process.communicate(timeout=max(deadline - time.monotonic(), 1.0))
        data = json.loads(record.read_text()) if record is not None and record.exists() else None
        results[name] = (process.returncode, output, data)
    return results


def burst_outputs() -> list[Path]:
    """The executed burst notebooks the batch runs wrote."""
    assert _root is not None
    return [_root / "out-fast" / "burst.ipynb", _root / "out-tcp" / "burst.ipynb"]


def stop() -> None:
    """End whatever still runs and remove the folder."""
    for process, _ in _runs.values():
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    if _root is not None:
        shutil.rmtree(_root, ignore_errors=True)
