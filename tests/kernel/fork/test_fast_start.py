"""Kernels forked from the warm template behave exactly like normally launched ones."""

from __future__ import annotations

import asyncio
import copy
import json
import sys
from pathlib import Path

import nbformat
import pytest

from nbrun import BatchOptions, ExecuteOptions
from nbrun.runners.batch import BatchJob, run_batch
from tests.support.normalize import normalized_cells
from tests.support.notebooks import SAMPLES, make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]

PROBE = (
    "import os, sys, json\n"
    "parent = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().split(b'\\0')\n"
    "print(json.dumps({'forked': any(p.endswith(b'_forkserver.py') for p in parent), 'cwd': os.getcwd(),"
    " 'path': sys.path, 'argv0': os.path.basename(sys.argv[0]), 'pgid_is_pid': os.getpgid(0) == os.getpid(),"
    " 'env': os.environ.get('NBRUN_PROBE_VAR'), 'main': sys.modules['__main__'].__name__}))"
)


def run_jobs(paths: list[Path], fast: bool = True, **options) -> list:
    preload = options.pop("preload", ())
    jobs = [BatchJob(p, p, ExecuteOptions(**options)) for p in paths]
    return asyncio.run(run_batch(jobs, BatchOptions(max_parallel=2, fast_start=fast, preload=preload)))


def probe(tmp_path: Path, fast: bool, name: str) -> dict:
    folder = tmp_path / name
    folder.mkdir()
    nbformat.write(make_notebook(PROBE), folder / "probe.ipynb")
    (outcome,) = run_jobs([folder / "probe.ipynb"], fast=fast)
    assert outcome.ok, outcome.summary()
    return json.loads(nbformat.read(folder / "probe.ipynb", 4).cells[0].outputs[0].text)


def test_forked_kernel_sees_the_same_process_setup_as_a_launched_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NBRUN_PROBE_VAR", "from-the-environment")
    forked, launched = probe(tmp_path, True, "fast"), probe(tmp_path, False, "slow")
    assert forked.pop("forked") is True and launched.pop("forked") is False
    assert forked.pop("cwd") == str(tmp_path / "fast") and launched.pop("cwd") == str(tmp_path / "slow")
    normalise = lambda paths, d: [p.replace(str(tmp_path / d), "<nb>") for p in paths]  # noqa: E731
    assert normalise(forked.pop("path"), "fast") == normalise(launched.pop("path"), "slow")
    assert forked == launched
    assert (
        forked["env"] == "from-the-environment" and forked["pgid_is_pid"] and forked["argv0"] == "ipykernel_launcher.py"
    )


def test_no_state_leaks_between_notebooks_and_random_state_differs(tmp_path: Path) -> None:
    writer = (
        "import json, os, random\njson.LEAKED = True\nos.environ['LEAKED'] = '1'\nSECRET = 42\nprint(random.random())"
    )
    reader = (
        "import json, os, random\nprint(hasattr(json, 'LEAKED'), 'LEAKED' in os.environ, 'SECRET' in globals())\n"
        "print(random.random())"
    )
    nbformat.write(make_notebook(writer), tmp_path / "a.ipynb")
    nbformat.write(make_notebook(reader), tmp_path / "b.ipynb")
    outcomes = run_jobs([tmp_path / "a.ipynb", tmp_path / "b.ipynb"])
    assert all(o.ok for o in outcomes)
    first = nbformat.read(tmp_path / "a.ipynb", 4).cells[0].outputs[0].text.strip()
    flags, second = nbformat.read(tmp_path / "b.ipynb", 4).cells[0].outputs[0].text.strip().splitlines()
    assert flags == "False False False"
    assert first != second


def test_preloaded_numpy_is_reseeded_and_matplotlib_stays_inline(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    source = (
        "import numpy as np, matplotlib, matplotlib.pyplot as plt\nprint(np.random.rand())\nprint(matplotlib.get_backend())\n"
        "plt.plot([1, 2, 3]); plt.show()"
    )
    for name in ("a", "b"):
        nbformat.write(make_notebook(source), tmp_path / f"{name}.ipynb")
    outcomes = run_jobs([tmp_path / "a.ipynb", tmp_path / "b.ipynb"], preload=("numpy", "matplotlib.pyplot"))
    assert all(o.ok for o in outcomes), [o.summary() for o in outcomes]
    texts = []
    for name in ("a", "b"):
        cell = nbformat.read(tmp_path / f"{name}.ipynb", 4).cells[0]
        random_value, backend = cell.outputs[0].text.split()
        assert "inline" in backend
        assert any("image/png" in o.get("data", {}) for o in cell.outputs)
        texts.append(random_value)
    assert texts[0] != texts[1]


def test_preloaded_module_shadowed_by_a_notebook_file_is_reimported(tmp_path: Path) -> None:
    (tmp_path / "json.py").write_text("SHADOW = 'local json'\n")
    nbformat.write(make_notebook("import json\nprint(getattr(json, 'SHADOW', 'stdlib json'))"), tmp_path / "nb.ipynb")
    # json is imported by the template anyway; the notebook's folder must still win, as in a normal launch
    normal = copy.deepcopy(nbformat.read(tmp_path / "nb.ipynb", 4))
    (outcome,) = run_jobs([tmp_path / "nb.ipynb"], preload=("json",))
    assert outcome.ok
    fast_text = nbformat.read(tmp_path / "nb.ipynb", 4).cells[0].outputs[0].text
    nbformat.write(normal, tmp_path / "nb.ipynb")
    run_jobs([tmp_path / "nb.ipynb"], fast=False)
    assert nbformat.read(tmp_path / "nb.ipynb", 4).cells[0].outputs[0].text == fast_text


def test_other_kernelspecs_fall_back_to_a_normal_launch(tmp_path: Path, monkeypatch) -> None:
    spec_dir = tmp_path / "jupyter" / "kernels" / "other-python"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-X", "utf8", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "other",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = make_notebook(PROBE)
    nb.metadata.kernelspec.name = "other-python"
    nbformat.write(nb, tmp_path / "nb.ipynb")
    (outcome,) = run_jobs([tmp_path / "nb.ipynb"])
    assert outcome.ok, outcome.summary()
    assert json.loads(nbformat.read(tmp_path / "nb.ipynb", 4).cells[0].outputs[0].text)["forked"] is False


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.ipynb")))
def test_samples_are_faithful_with_fast_start(tmp_path: Path, name: str) -> None:
    import shutil

    shutil.copy(SAMPLES / name, tmp_path / name)
    shutil.copytree(SAMPLES / "data", tmp_path / "data")
    (outcome,) = run_jobs([tmp_path / name])
    golden = nbformat.read(SAMPLES / name, 4)
    assert outcome.status == golden.metadata.nbrun["status"]
    assert normalized_cells(nbformat.read(tmp_path / name, 4)) == normalized_cells(golden)


def test_timeout_interrupt_and_kill_work_on_forked_kernels(tmp_path: Path) -> None:
    source = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
    nbformat.write(make_notebook("import time\ntime.sleep(60)", "print('next')"), tmp_path / "a.ipynb")
    nbformat.write(make_notebook(source, "print('after restart')"), tmp_path / "b.ipynb")
    outcomes = run_jobs([tmp_path / "a.ipynb", tmp_path / "b.ipynb"], timeout=1, interrupt_grace=1, allow_errors=True)
    a = nbformat.read(tmp_path / "a.ipynb", 4)
    assert a.cells[0].outputs[-1].ename == "KeyboardInterrupt" and a.cells[1].outputs[0].text == "next\n"
    b = nbformat.read(tmp_path / "b.ipynb", 4)
    assert b.cells[0].metadata.nbrun["actions"] == ["interrupted", "killed", "restarted"]
    assert b.cells[1].outputs[0].text == "after restart\n"
    assert [o.status for o in outcomes] == ["ok", "ok"]


def test_kernel_death_on_a_forked_kernel_reports_the_signal(tmp_path: Path) -> None:
    nbformat.write(
        make_notebook("import os, signal\nos.write(2, b'last words\\n')\nos.kill(os.getpid(), signal.SIGKILL)"),
        tmp_path / "d.ipynb",
    )
    (outcome,) = run_jobs([tmp_path / "d.ipynb"])
    assert outcome.status == "kernel-died"
    record = nbformat.read(tmp_path / "d.ipynb", 4).metadata.nbrun["kernel_exit"]
    assert record["signal"] == "SIGKILL" and "out of memory" in record["reason"]
    assert "last words" in record["stderr_tail"]
