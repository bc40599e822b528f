"""Progress bars appear on a terminal only, and --no-progress turns them off."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]


def stderr_through_a_terminal(*args: str) -> str:
    """Run the CLI with stderr on a pseudo-terminal; return what it drew there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal has a size
    proc = subprocess.Popen([sys.executable, "-m", "nbrun.cli", "run", *args], stderr=slave, stdout=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO once the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_bar_on_a_terminal_not_in_a_pipe_and_off_with_no_progress(write_nb, tmp_path: Path) -> None:
    path = write_nb("import time\ntime.sleep(0.3)", "x = 1", "y = 2")
    drawn = stderr_through_a_terminal(str(path))
    assert "cell/s" in drawn or "s/cell" in drawn  # tqdm's rate column, unit "cell"
    assert "/3 [" in drawn  # a bar over the three code cells
    piped = subprocess.run(
        [sys.executable, "-m", "nbrun.cli", "run", str(path)], capture_output=True, text=True, timeout=60
    )
    assert "cell/s" not in piped.stderr and "s/cell" not in piped.stderr and "ok" in piped.stderr
    quiet = stderr_through_a_terminal(str(path), "--no-progress")
    assert "cell/s" not in quiet and "s/cell" not in quiet


def test_batch_draws_an_overall_bar_on_a_terminal(write_nb) -> None:
    first = write_nb("x = 1", name="a.ipynb")
    write_nb("1/0", name="b.ipynb")
    drawn = stderr_through_a_terminal(str(first.parent), "-j", "2")
    assert "notebooks" in drawn and "2/2" in drawn and "1 failed" in drawn


def test_the_bar_ticks_during_a_long_quiet_cell_and_names_it(write_nb) -> None:
    path = write_nb("x = 1", "import time\ntime.sleep(4.5)", "y = 2")
    drawn = stderr_through_a_terminal(str(path))
    during = [frame for frame in drawn.split("\r") if "1/3 [" in frame and "cell 2" in frame]
    elapsed = {frame.split("1/3 [", 1)[1][:5] for frame in during}  # tqdm's mm:ss
    # redrawn every second while cell 2 sleeps (two distinct seconds at least, with headroom for a loaded machine)
    assert len(elapsed & {"00:01", "00:02", "00:03", "00:04"}) >= 2, during
