"""Issue 12 defects 3 and 4: the kernel log and every output kind stay bounded.

Peak RSS is nbrun's VmHWM (tests/support/scripts/rss_wrapper.py); each test prints
its figure (run with -s) for the before/after table in the report.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.support.notebooks import make_notebook

pytestmark = [pytest.mark.kernel]
HELPERS = Path(__file__).resolve().parents[1] / "support" / "scripts"
MiB = 2**20


def run_measuring_rss(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the CLI through helpers/rss_wrapper.py; return (process, nbrun's peak RSS in MiB)."""
    rss_file = tmp_path / "rss.txt"
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(HELPERS / "rss_wrapper.py"), str(rss_file), "run", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )
    rss = int(rss_file.read_text()) / 1024
    print(f"\n[figure] nbrun {' '.join(args[:1])}: peak RSS {rss:.0f} MiB in {time.monotonic() - start:.1f} s")
    return proc, rss


FD_FLOOD = (
    "import os, subprocess\nchunk = b'e' * (1 << 20)\nfor _ in range(60):\n    os.write(2, chunk)\n"
    "subprocess.run('head -c 60000000 /dev/zero | tr \"\\\\0\" o', shell=True)"
)
LOG_SIZE = "import os\nprint(os.stat(os.readlink('/proc/self/fd/2')).st_size)"


def test_kernel_fd_output_is_kept_as_head_and_tail_only(tmp_path: Path) -> None:
    """Defect 3: 120 MB on the kernel's fd 2 (60 MB os.write + 60 MB from a subprocess).

    Before the fix the log file held all of it and close() read it whole (the
    issue's probe, 300 MB: 938 MiB peak before, 57 MiB after).
    """
    path = tmp_path / "fdflood.ipynb"
    nbformat.write(make_notebook(FD_FLOOD, LOG_SIZE), path)
    proc, rss = run_measuring_rss(tmp_path, str(path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    nb = nbformat.read(path, 4)
    on_disk = int(nb.cells[1].outputs[0].text)
    assert on_disk < 4 * MiB, f"the kernel log on disk holds {on_disk} bytes"
    assert rss < 110, f"nbrun peaked at {rss:.0f} MiB"


UPDATES = (
    "from IPython.display import display, update_display\n"
    "for i in range(20):\n    display('start', display_id=f'u{i}')\n"
    "for i in range(20):\n    update_display({'text/plain': str(i % 10) * 2**20}, raw=True, display_id=f'u{i}')"
)


def test_display_updates_obey_max_output_bytes(tmp_path: Path) -> None:
    """Defect 4: twenty display ids each updated with 1 MB under a 4 MiB cap (the issue: 5 MB, default cap)."""
    path = tmp_path / "updates.ipynb"
    nbformat.write(make_notebook(UPDATES, "print('next')"), path)
    proc, _ = run_measuring_rss(tmp_path, str(path), "--max-output-bytes", str(4 * MiB))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert path.stat().st_size < 5 * MiB
    nb = nbformat.read(path, 4)
    outputs = nb.cells[0].outputs
    kept = sum(len(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert kept <= 4 * MiB
    assert outputs[-1].output_type == "stream" and outputs[-1].text.startswith("[nbrun] output truncated")
    assert nb.cells[0].metadata.nbrun["truncated"]["dropped_messages"] >= 1
    assert nb.cells[1].outputs[0].text == "next\n"


BIG_PNG = (
    "import base64\nfrom IPython.display import display\n"
    "payload = base64.b64encode(b'\\x89PNG' + b'\\0' * 30_000_000).decode()\n"
    "display({'image/png': payload, 'text/plain': 'big'}, raw=True)\ndel payload"
)


def test_a_rich_payload_over_the_cap_is_not_decoded_whole(tmp_path: Path) -> None:
    """Defect 4: a 40 MB image/png over a 1 MiB cap is dropped with the marker, never decoded.

    The issue's probe (147 MB, default cap): 611 MiB peak before, 192 MiB after
    (the zmq frame itself plus the interpreter).
    """
    path = tmp_path / "bigpng.ipynb"
    nbformat.write(make_notebook(BIG_PNG, "print('next')"), path)
    proc, rss = run_measuring_rss(tmp_path, str(path), "--max-output-bytes", str(MiB))
    assert proc.returncode == 0, proc.stderr[-2000:]
    nb = nbformat.read(path, 4)
    outputs = nb.cells[0].outputs
    assert not any("image/png" in o.get("data", {}) for o in outputs)
    assert outputs[-1].text.startswith("[nbrun] output truncated")
    assert rss < 40 * 1.5 + 60, f"nbrun peaked at {rss:.0f} MiB for a 40 MiB message"


def test_a_large_input_notebook_peaks_near_twice_its_size(tmp_path: Path) -> None:
    """Defect 11: a 40 MB markdown cell (100 MB input: 348 MiB peak before, 244 MiB after).

    Measured against the same run of a small notebook, so the interpreter and
    the libraries' own size (which moves with their versions) is not counted.
    """
    from nbformat.v4 import new_markdown_cell

    nbformat.write(make_notebook("1 + 1"), tmp_path / "small.ipynb")
    _, baseline = run_measuring_rss(tmp_path, str(tmp_path / "small.ipynb"), "-o", str(tmp_path / "small-out.ipynb"))
    nb = make_notebook("1 + 1")
    nb.cells.insert(0, new_markdown_cell("m" * 40_000_000))
    path = tmp_path / "big.ipynb"
    nbformat.write(nb, path)
    proc, rss = run_measuring_rss(tmp_path, str(path), "-o", str(tmp_path / "out.ipynb"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert rss - baseline < 2.25 * 40, (
        f"nbrun peaked at {rss:.0f} MiB for a 40 MB notebook ({baseline:.0f} MiB for a small one)"
    )


def test_writer_stays_byte_identical_to_nbformat_with_huge_sources_and_data() -> None:
    from nbformat.v4 import new_markdown_cell, new_output

    from nbrun.notebook.format import notebook_to_text

    nb = make_notebook('x = "' + "y" * 2_000_000 + '"\nprint(1)')
    nb.cells.insert(0, new_markdown_cell('m"\\' * 1_000_000 + "\nsecond é\n"))
    nb.cells[1].outputs = [
        new_output("display_data", data={"text/plain": "p" * 3_000_000 + "\nq", "text/html": "<b>" * 400_000})
    ]
    assert notebook_to_text(nb) == nbformat.writes(nb) + "\n"
