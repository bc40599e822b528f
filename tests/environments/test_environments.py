"""Issue 27: a notebook's own environment, built with uv from PyPI, cached, shared, forked warm (real kernels).

The notebooks import ``tabulate``, which the host environment lacks. Every
environment is built once per session in the shared folder (``env_dir``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from nbrun.environments.build import find_uv
from nbrun.environments.layout import RECORD
from tests.support.load import within
from tests.support.notebooks import make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = str(Path(sys.executable).parent / "nbrun")
# What the kernel says: the version it imported, its interpreter's prefix, and what its parent process runs.
REPORT = (
    "import os, sys, tabulate\n"
    "parent = open(f'/proc/{os.getppid()}/cmdline').read().replace('\\0', ' ')\n"
    "print(tabulate.__version__, sys.prefix, parent, sep='|')"
)


def block(*dependencies: str) -> str:
    listed = "".join(f'#     "{dependency}",\n' for dependency in dependencies)
    return f'# /// script\n# requires-python = ">=3.10"\n# dependencies = [\n{listed}# ]\n# ///'


def write(path: Path, *sources: str, lock: str | None = None) -> Path:
    nb = make_notebook(*sources)
    if lock is not None:
        nb.metadata["uv.lock"] = lock
    nbformat.write(nb, path)
    return path


def nbrun(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NBRUN, *args], capture_output=True, text=True, timeout=within(150), cwd=cwd)


def kernel_said(path: Path) -> tuple[str, str, str]:
    """(tabulate's version, sys.prefix, the parent's command line) from the notebook's last cell."""
    outputs = nbformat.read(path, as_version=4).cells[-1].outputs
    version, prefix, parent = "".join(output.get("text", "") for output in outputs).strip().split("|")
    return version, prefix, parent


@pytest.fixture(autouse=True)
def host_lacks_tabulate() -> None:
    if importlib.util.find_spec("tabulate") is not None:
        pytest.fail("tabulate is installed in the test environment: these tests need a package the host lacks")


def test_a_notebook_runs_in_its_own_environment_and_a_second_run_reuses_it(tmp_path: Path, env_dir: Path) -> None:
    source = write(tmp_path / "nb.ipynb", block("tabulate==0.9.0"), REPORT)
    began = time.monotonic()
    first = nbrun("run", str(source), "-o", str(tmp_path / "first.ipynb"))
    first_seconds = time.monotonic() - began
    assert first.returncode == 0, first.stderr
    version, prefix, _ = kernel_said(tmp_path / "first.ipynb")
    assert version == "0.9.0"
    folder = Path(prefix)
    assert folder.parent == env_dir and (folder / RECORD).is_file()
    record = (folder / RECORD).stat()
    began = time.monotonic()
    second = nbrun("run", str(source), "-o", str(tmp_path / "second.ipynb"))
    second_seconds = time.monotonic() - began
    assert second.returncode == 0, second.stderr
    assert kernel_said(tmp_path / "second.ipynb")[:2] == ("0.9.0", prefix)
    again = (folder / RECORD).stat()
    assert (again.st_ino, again.st_mtime_ns) == (record.st_ino, record.st_mtime_ns)  # reused, not rebuilt
    assert not [entry for entry in env_dir.iterdir() if entry.name.startswith(f".building-{folder.name}")]
    assert second_seconds < within(10), (first_seconds, second_seconds)
    print(f"first run {first_seconds:.2f} s (a build unless another test made it), second {second_seconds:.2f} s")


def test_a_batch_gives_each_pin_its_environment_forked_warm_and_a_broken_one_fails_alone(
    tmp_path: Path, env_dir: Path
) -> None:
    new = write(tmp_path / "new.ipynb", block("tabulate==0.9.0"), REPORT)
    new_too = write(tmp_path / "new_too.ipynb", "x = 1", block("tabulate==0.9.0"), REPORT)  # the same declarations
    old = write(tmp_path / "old.ipynb", block("tabulate==0.8.10"), REPORT)
    broken = write(tmp_path / "broken.ipynb", block("tabulate==99.0"), REPORT)
    plain = write(tmp_path / "plain.ipynb", "print('host')")
    out = tmp_path / "out"
    paths = [str(path) for path in (new, new_too, old, broken, plain)]
    proc = nbrun("run", *paths, "--output-dir", str(out), "-j", "2", "--json", str(tmp_path / "run.json"))
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "broken.ipynb" in line and "error" in line]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "the environment could not be built" in errors[0] and "tabulate==99.0" in errors[0], errors[0]
    record = json.loads((tmp_path / "run.json").read_text())
    statuses = {Path(entry["input"]).name: entry["status"] for entry in record["notebooks"]}
    assert statuses == {
        "new.ipynb": "ok",
        "new_too.ipynb": "ok",
        "old.ipynb": "ok",
        "broken.ipynb": "environment-failed",
        "plain.ipynb": "ok",
    }
    assert not (out / "broken.ipynb").exists()  # no kernel started for it: nothing ran, nothing written
    said = {name: kernel_said(out / name) for name in ("new.ipynb", "new_too.ipynb", "old.ipynb")}
    assert said["new.ipynb"][0] == said["new_too.ipynb"][0] == "0.9.0" and said["old.ipynb"][0] == "0.8.10"
    assert said["new.ipynb"][1] == said["new_too.ipynb"][1] != said["old.ipynb"][1]  # one environment per pin
    for _, prefix, parent in said.values():
        assert Path(prefix).parent == env_dir
        assert "_forkserver.py" in parent and parent.startswith(f"{prefix}/bin/python"), parent  # its own template


def test_the_lock_is_installed_exactly_whatever_the_declarations_allow(tmp_path: Path, env_dir: Path) -> None:
    script = tmp_path / "locking.py"
    script.write_text(block("tabulate<0.9") + "\n", encoding="utf-8")
    subprocess.run([find_uv(), "lock", "--quiet", "--script", str(script)], check=True, timeout=within(60))
    lock = Path(f"{script}.lock").read_text(encoding="utf-8")
    source = write(tmp_path / "nb.ipynb", block("tabulate"), REPORT, lock=lock)  # unpinned: a resolution gives 0.9
    proc = nbrun("run", str(source), "-o", str(tmp_path / "out.ipynb"))
    assert proc.returncode == 0, proc.stderr
    assert kernel_said(tmp_path / "out.ipynb")[0] == "0.8.10"
    inspected = nbrun("inspect", str(source))
    assert "locked by metadata['uv.lock']: tabulate==0.8.10" in inspected.stdout, inspected


def test_a_replayed_run_builds_nothing_and_a_changed_pin_runs_again(tmp_path: Path, env_dir: Path) -> None:
    source = write(tmp_path / "nb.ipynb", block("tabulate==0.9.0"), REPORT)
    cache = tmp_path / "cache"
    assert nbrun("run", str(source), "--cache", str(cache)).returncode == 0
    elsewhere = tmp_path / "no-envs"
    replay = nbrun("run", str(source), "--cache", str(cache), "--env-dir", str(elsewhere))
    assert replay.returncode == 0 and "ok (cached)" in replay.stderr, replay
    assert not elsewhere.exists()  # the key held the environment's digest; nothing was built for a replay
    write(source, block("tabulate==0.8.10"), REPORT)
    changed = nbrun("run", str(source), "--cache", str(cache))
    assert changed.returncode == 0 and "(cached)" not in changed.stderr, changed
    assert kernel_said(source)[0] == "0.8.10"
