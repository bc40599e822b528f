"""Kernelspecs read from their files agree with jupyter_client, and a cached run loads no kernel machinery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from nbrun.kernel.spec_files import find_spec, find_spec_dirs
from nbrun.kernel.spec_manager import SpecManager
from tests.support.load import within
from tests.support.notebooks import make_notebook

KERNEL_MACHINERY = ("jupyter_client", "zmq", "tornado", "ipykernel", "IPython", "nbrun.kernel.session")
LISTS_IMPORTS = """
import json, sys
from nbrun.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def test_every_installed_kernel_reads_as_jupyter_client_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder, name in ((tmp_path / "first", "Shadowed-Kernel"), (tmp_path / "second", "shadowed-kernel")):
        spec = {"argv": ["tool", "-f", "{connection_file}", folder.name], "language": "Tool", "env": {"A": "1"}}
        (folder / "kernels" / name).mkdir(parents=True)
        (folder / "kernels" / name / "kernel.json").write_text(json.dumps({**spec, "display_name": name}))
    monkeypatch.setenv("JUPYTER_PATH", f"{tmp_path / 'first'}:{tmp_path / 'second'}")  # the first folder wins
    manager = KernelSpecManager()
    assert set(find_spec_dirs()) == set(manager.find_kernel_specs())
    for name in [*manager.find_kernel_specs(), "python", "PYTHON3"]:
        ours, theirs = find_spec(name), manager.get_kernel_spec(name.lower() if name != "python" else "python3")
        assert ours is not None, name
        assert (list(ours.argv), ours.language, ours.env) == (theirs.argv, theirs.language.lower(), theirs.env), name
    assert find_spec("shadowed-kernel") is not None and find_spec("shadowed-kernel").argv[-1] == "first"  # type: ignore[union-attr]
    assert find_spec("no-such-kernel") is None


@pytest.mark.parametrize("ipython_dir", [None, "~/./ipy"])
def test_the_spec_manager_searches_the_folders_jupyter_client_would(
    ipython_dir: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    if ipython_dir is None:
        monkeypatch.delenv("IPYTHONDIR", raising=False)
    else:
        monkeypatch.setenv("IPYTHONDIR", ipython_dir)
    monkeypatch.delenv("IPYTHON_DIR", raising=False)
    assert SpecManager().kernel_dirs == KernelSpecManager().kernel_dirs


@pytest.mark.kernel
def test_a_run_replayed_from_the_cache_imports_no_kernel_machinery(tmp_path: Path) -> None:
    nbformat.write(make_notebook("print('once')"), tmp_path / "nb.ipynb")
    command = [sys.executable, "-c", LISTS_IMPORTS, "run", "nb.ipynb", "-o", "out.ipynb", "--cache", "c"]
    cold = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=within(120))
    assert "nbrun: ok nb.ipynb" in cold.stderr, cold.stderr
    assert "jupyter_client" in json.loads(cold.stdout)  # the cold run did start a kernel
    assert "IPython" not in json.loads(cold.stdout)  # 0.2 s jupyter_client's spec manager would spend on folders
    warm = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=within(120))
    assert "nbrun: ok (cached) nb.ipynb" in warm.stderr, warm.stderr
    loaded = [
        name for name in json.loads(warm.stdout) if name.split(".")[0] in KERNEL_MACHINERY or name in KERNEL_MACHINERY
    ]
    assert loaded == []
