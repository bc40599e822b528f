"""``nbrun run --dask``: one task per notebook on a real Dask cluster (loopback only).

A module LocalCluster (2 single-threaded worker processes, 127.0.0.1, no
dashboard) plays "an existing scheduler" the CLI connects to; ``local:2``
is exercised once, with Ctrl-C sent to the whole process group.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.support.load import within
from tests.support.normalize import normalized_cells
from tests.support.notebooks import make_notebook
from tests.support.procs import kernel_pids, pid_alive, session_pids, wait_gone

distributed = pytest.importorskip("distributed")

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = [sys.executable, "-m", "nbrun.cli", "run"]
TINY_PNG = (
    "import io\nfrom PIL import Image as Picture\nfrom IPython.display import Image, display\n"
    "buffer = io.BytesIO()\nPicture.new('RGB', (2, 2), 'red').save(buffer, 'PNG')\ndisplay(Image(buffer.getvalue()))"
)
PY_TRACEBACK = "\nTraceback (most recent call last):"


def dask_process_pids() -> set[int]:
    """Live spawned multiprocessing children (Dask worker processes) started by this test session."""
    return session_pids(lambda cmdline: any(b"spawn_main" in part for part in cmdline))


FLAKY_LAUNCHER = """
import os, sys
state = sys.argv[1]
failures = open(state).read().count('failed') if os.path.exists(state) else 0
if failures < int(sys.argv[2]):
    open(state, 'a').write('failed\\n')
    sys.stderr.write('flaky kernel: failing on purpose\\n')
    sys.exit(1)
open(state, 'a').write('started\\n')
os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', *sys.argv[3:]])
"""


@pytest.fixture(scope="module")
def jupyter_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JUPYTER_PATH the cluster's workers see, with a kernel failing its first two starts."""
    root = tmp_path_factory.mktemp("jupyter")
    launcher = root / "flaky_launcher.py"
    launcher.write_text(FLAKY_LAUNCHER)
    spec = root / "kernels" / "flaky2"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(launcher), str(root / "state"), "2", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "flaky", "language": "python"}))
    return root


@pytest.fixture(scope="module")
def cluster(jupyter_path: Path) -> Iterator[tuple[str, Any]]:
    """A LocalCluster standing in for an existing scheduler; proves its workers are gone afterwards."""
    before = dask_process_pids()
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        env={"JUPYTER_PATH": str(jupyter_path)},
        scheduler_kwargs={"allowed_failures": 1, "dashboard_address": "127.0.0.1:0"},
    )
    client = distributed.Client(cluster)
    try:
        yield cluster.scheduler_address, client
    finally:
        workers = set(client.run(os.getpid).values())
        client.close()
        cluster.close()
        assert not wait_gone(workers, timeout=10), "Dask worker processes left behind"
        assert not wait_gone(dask_process_pids() - before, timeout=10)


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NBRUN, *args], capture_output=True, text=True, timeout=timeout)


def build_batch(root: Path) -> None:
    """10 notebooks: ok ones (prints, a result, an image, a parameter), a cell error, a timeout, an invalid file."""
    sources: dict[str, tuple[str, ...]] = {
        "a/ok_print.ipynb": ("print('hello')", "21 * 2"),
        "a/ok_cwd.ipynb": ("import os\nos.path.basename(os.getcwd())",),
        "a/ok_image.ipynb": (TINY_PNG,),
        "a/error.ipynb": ("print('before')", "1/0", "print('never')"),
        "b/ok_param.ipynb": (("n = 1", ["parameters"]), "print(n * 10)"),
        "b/timeout.ipynb": ("import time\ntime.sleep(30)", "print('never')"),
        "b/ok_stderr.ipynb": ("import sys\nprint('warn', file=sys.stderr)",),
        "b/ok_display.ipynb": ("from IPython.display import HTML, display\ndisplay(HTML('<b>x</b>'))",),
        "c/ok_loop.ipynb": ("for i in range(3):\n    print(i)",),
    }
    for name, cells in sources.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_notebook(*cells), root / name)
    (root / "c" / "invalid.ipynb").write_text("{ not a notebook")


def untimed(value: Any) -> Any:
    """*value* with measured timeouts ("timed out after 2.001 s") masked."""
    text = re.sub(r"after [0-9.]+ s\b", "after N s", json.dumps(value))
    return json.loads(re.sub(r'"after_seconds": [0-9.]+', '"after_seconds": 0', text))


MEASURED = ("peak_memory", "cpu_time")  # the kernel's resources: measured, as durations are, so never equal


def comparable(record: dict[str, Any], out: Path, images: Path) -> dict[str, Any]:
    """The JSON run record without times, outputs relative to their folders."""
    notebooks = []
    for entry in record["notebooks"]:
        entry = {key: value for key, value in entry.items() if key not in ("duration", "output", *MEASURED)}
        entry["cells"] = [
            {k: v for k, v in cell.items() if k not in ("duration", "timed_out_after", *MEASURED)}
            for cell in entry["cells"]
        ]
        entry["extracted_files"] = [str(Path(p).relative_to(images)) for p in entry["extracted_files"]]
        for image in entry.get("images", []):  # the run page's thumbnails link the extracted files
            if "file" in image:
                image["file"] = str(Path(image["file"]).resolve().relative_to(images.resolve()))
        notebooks.append(entry)
    return untimed({"exit_code": record["exit_code"], "totals": record["totals"], "notebooks": notebooks})


def notebook_view(path: Path, images: Path) -> dict[str, Any]:
    """Normalised cells and run record; image references relative to the images folder."""
    nb = nbformat.read(path, as_version=4)
    record = {k: v for k, v in nb.metadata["nbrun"].items() if k not in ("start", "end", "duration", *MEASURED)}
    view = {"cells": normalized_cells(nb), "nbrun": record}
    return untimed(json.loads(json.dumps(view).replace(images.name, "IMAGES")))


def test_dask_batch_matches_the_local_run(tmp_path: Path, cluster: tuple[str, Any]) -> None:
    address, _ = cluster
    build_batch(tmp_path / "in")
    common = [str(tmp_path / "in"), "--timeout", "8", "--interrupt-grace", "2", "-p", "n", "3"]
    runs = {}
    for mode, extra in (("dask", ["--dask", address]), ("local", ["-j", "2"])):
        out, images = tmp_path / f"out_{mode}", tmp_path / f"img_{mode}"
        proc = run_cli(
            *common,
            *extra,
            "--output-dir",
            str(out),
            "--extract-images",
            str(images),
            "--json",
            str(tmp_path / f"{mode}.json"),
        )
        record = json.loads((tmp_path / f"{mode}.json").read_text())
        written = sorted(p.relative_to(out) for p in out.rglob("*.ipynb"))
        runs[mode] = {
            "code": proc.returncode,
            "record": comparable(record, out, images),
            "notebooks": {str(p): notebook_view(out / p, images) for p in written},
            "images": sorted(str(p.relative_to(images)) for p in images.rglob("*.png")),
        }
        assert PY_TRACEBACK not in "\n" + proc.stderr, proc.stderr
    for name, view in runs["local"]["notebooks"].items():
        assert runs["dask"]["notebooks"].get(name) == view, name
    for dask_entry, local_entry in zip(runs["dask"]["record"]["notebooks"], runs["local"]["record"]["notebooks"]):
        assert dask_entry == local_entry
    assert runs["dask"] == runs["local"]
    statuses = {Path(n["input"]).name: n["status"] for n in runs["dask"]["record"]["notebooks"]}
    assert statuses == {
        "ok_print.ipynb": "ok",
        "ok_cwd.ipynb": "ok",
        "ok_image.ipynb": "ok",
        "error.ipynb": "error",
        "ok_param.ipynb": "ok",
        "timeout.ipynb": "timeout",
        "ok_stderr.ipynb": "ok",
        "ok_display.ipynb": "ok",
        "invalid.ipynb": "invalid",
        "ok_loop.ipynb": "ok",
    }
    assert runs["dask"]["code"] == 1  # a/error.ipynb is the first failure in order
    cwd_cell = runs["dask"]["notebooks"]["a/ok_cwd.ipynb"]["cells"][-1]
    assert cwd_cell["outputs"][0]["data"]["text/plain"] == "'a'"  # the kernel ran in the notebook's folder
    assert runs["dask"]["images"] == ["a/ok_image_cell1_output0.png"]  # cell 0 holds the injected parameters


def test_worker_killed_mid_run_is_retried(tmp_path: Path, cluster: tuple[str, Any]) -> None:
    address, client = cluster
    pids_file = tmp_path / "worker_pids.txt"
    path = tmp_path / "slow.ipynb"
    nbformat.write(
        make_notebook(
            f"import os\nwith open({str(pids_file)!r}, 'a') as f:\n    f.write(f'{{os.getppid()}}\\n')",
            "import time\ntime.sleep(3)\nprint('finished')",
        ),
        path,
    )
    workers = set(client.run(os.getpid).values())
    proc = subprocess.Popen(
        [*NBRUN, str(path), "--dask", address, "--json", str(tmp_path / "run.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + within(60)
    while not (pids_file.exists() and pids_file.read_text().endswith("\n")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    victim = int(pids_file.read_text().split()[0])
    assert victim in workers  # the kernel is a child of the worker
    os.kill(victim, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr
    pids = [int(line) for line in pids_file.read_text().split()]
    assert len(pids) == 2 and pids[1] != victim and not pid_alive(victim)
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["nbrun"]["status"] == "ok"
    assert "finished" in nb.cells[1].outputs[0]["text"]
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["notebooks"][0]["status"] == "ok"
    # the orphaned kernel of the killed worker notices its parent is gone and exits
    assert not wait_gone(kernel_pids(), timeout=10)


def test_kernel_start_failure_is_retried_only_with_retries(
    tmp_path: Path, cluster: tuple[str, Any], jupyter_path: Path
) -> None:
    address, _ = cluster
    path = tmp_path / "flaky.ipynb"
    nbformat.write(make_notebook("print('up')"), path)
    original = path.read_text()
    state = jupyter_path / "state"
    state.unlink(missing_ok=True)
    proc = run_cli(str(path), "-k", "flaky2", "--dask", address, "--retries", "0")
    assert proc.returncode == 4, proc.stderr  # nbrun's own second start failed too; no Dask retry
    assert "flaky kernel: failing on purpose" in proc.stderr and PY_TRACEBACK not in "\n" + proc.stderr
    assert state.read_text() == "failed\nfailed\n" and path.read_text() == original
    state.unlink()
    proc = run_cli(str(path), "-k", "flaky2", "--dask", address, "--json", str(tmp_path / "run.json"))
    assert proc.returncode == 0, proc.stderr  # --retries 1 (default): the task ran again
    assert state.read_text() == "failed\nfailed\nstarted\n"
    assert json.loads((tmp_path / "run.json").read_text())["notebooks"][0]["status"] == "ok"


def test_local_cluster_ctrl_c_interrupts_running_and_skips_queued(tmp_path: Path) -> None:
    before = dask_process_pids()
    folder = tmp_path / "in"
    folder.mkdir()
    nbformat.write(make_notebook("print('quick')"), folder / "a_quick.ipynb")
    for name in ("b", "c", "d"):
        started = tmp_path / f"{name}.started"
        nbformat.write(
            make_notebook(f"open({str(started)!r}, 'w').close()", "import time\ntime.sleep(30)", "print('never')"),
            folder / f"{name}_sleep.ipynb",
        )
    proc = subprocess.Popen(
        [
            *NBRUN,
            str(folder),
            "--dask",
            "local:2",
            "--output-dir",
            str(tmp_path / "out"),
            "--json",
            str(tmp_path / "run.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + within(60)
    while len(list(tmp_path.glob("*.started"))) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # a terminal Ctrl-C reaches the local workers too
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    record = json.loads((tmp_path / "run.json").read_text())
    statuses = {Path(n["input"]).stem: n["status"] for n in record["notebooks"]}
    started = {path.stem for path in tmp_path.glob("*.started")}
    assert statuses["a_quick"] == "ok"
    for name in ("b", "c", "d"):
        assert statuses[f"{name}_sleep"] == ("interrupted" if name in started else "skipped"), stderr
    for name in started:
        nb = nbformat.read(tmp_path / "out" / f"{name}_sleep.ipynb", as_version=4)
        assert nb.metadata["nbrun"]["status"] == "interrupted"
        assert nb.metadata["nbrun"]["interrupted_by"] == "SIGINT"
    assert PY_TRACEBACK not in "\n" + stderr, stderr
    assert not wait_gone(dask_process_pids() - before, timeout=10), "local Dask workers left behind"


BLOCK_DISTRIBUTED = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('distributed', 'dask'):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
sys.argv = ['nbrun', *sys.argv[1:]]
from nbrun.cli.commands.run import main
main()
"""


def test_missing_extra_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook("1"), path)
    original = path.read_text()
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_DISTRIBUTED, "run", str(path), "--dask", "local:2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr == "nbrun: error: --dask needs the dask extra: pip install 'jupyter-nbrun[dask]'\n"
    assert path.read_text() == original
