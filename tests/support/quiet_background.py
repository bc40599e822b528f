"""Long quiet cells, run in the background for the whole test session.

Cells that sleep 10 to 65 s, then bursts of displays after a 10 s quiet
cell, through every way nbrun runs a notebook: a batch with fast start over
IPC, a batch without fast start over TCP, and ``pytest --nbrun``. They start
when the session's collection finishes (``conftest.pytest_collection_finish``)
and take no CPU while they sleep, so the session is not longer for them;
``test_quiet_cells`` waits for them at the session's end (it is collected last).

Under xdist any worker may get that test, so the runs live in a folder named
after the session (the controller's pid) and leave their exit code in a file
there: whichever worker waits reads them, and only one worker starts them.
The runs carry their own test-session marker, so the kernel-leak checks of
the tests that run meanwhile never count their kernels.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from tests.support.notebooks import make_notebook
from tests.support.procs import MARKER

QUIET_SECONDS = (10, 12, 15, 31, 65)
BURST = 20_000
BURST_CELLS = (
    "import time; time.sleep(10)",
    f"from IPython.display import display\nfor i in range({BURST}):\n    display(i)",
)
NBRUN = str(Path(sys.executable).parent / "nbrun")

RUNS = {"fast start, IPC, -j 6": "fast", "no fast start, TCP, -j 2": "tcp", "pytest --nbrun": "plugin"}
_started: list[subprocess.Popen[bytes]] = []


def root() -> Path:
    """This session's folder: the same in every xdist worker and in the controller."""
    session = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
    return Path(tempfile.gettempdir()) / f"nbrun-quiet-{session}"


def start() -> None:
    """Write the notebooks and start the runs, unless this session already did."""
    _root = root()
    try:
        _root.mkdir()
    except FileExistsError:
        return
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
        "fast",
        [NBRUN, "run", str(quiet), "-j", str(len(QUIET_SECONDS) + 1), "--output-dir", str(_root / "out-fast")],
        env,
        _root / "fast.json",
    )
    _launch(
        "tcp",
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
        "plugin",
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
    """Run *argv* with its output in ``name.out`` and, once it exits, its code in ``name.rc``."""
    if record is not None:
        argv = [*argv, "--json", str(record)]
    folder = root()
    script = f'"$@" > {name}.out 2>&1; echo $? > {name}.rc.tmp; mv {name}.rc.tmp {name}.rc'
    argv = ["sh", "-c", script, "sh", *argv]
    _started.append(subprocess.Popen(argv, env=env, cwd=folder, start_new_session=True))


def wait(timeout: float) -> dict[str, tuple[int, str, dict[str, Any] | None]]:
    """Each run's exit code, output and JSON record (None for pytest), by run name."""
    start()
    folder = root()
    deadline = time.monotonic() + timeout
    results = {}
    for name, key in RUNS.items():
        code = folder / f"{key}.rc"
        while not code.exists():
            assert time.monotonic() < deadline, f"{name} still runs after {timeout} s"
            time.sleep(0.5)  # polling a file another process writes; not a wait for a guessed time
        record = folder / f"{key}.json"
        data = json.loads(record.read_text()) if record.exists() else None
        results[name] = (int(code.read_text()), (folder / f"{key}.out").read_text(), data)
    return results


def burst_outputs() -> list[Path]:
    """The executed burst notebooks the batch runs wrote."""
    return [root() / "out-fast" / "burst.ipynb", root() / "out-tcp" / "burst.ipynb"]


def stop() -> None:
    """End the runs this process started; the controller (or a lone pytest) removes the folder.

    Under xdist another worker may still be waiting for them, so a worker lets
    them finish (they normally did long ago) before it ends them.
    """
    patience = 600.0 if os.environ.get("PYTEST_XDIST_WORKER") else 0.0
    for process in _started:
        try:
            process.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(root(), ignore_errors=True)
