"""Issue 12 defects 7 and 11: kernels other than ipykernel (xeus-python, bash_kernel), differential against nbclient."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from nbrun.cli import main
from nbrun.kernel.transport import choose_transport
from tests.support.normalize import normalized_cells

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]


def invoke(*args: str):
    return CliRunner().invoke(main, ["run", *args], catch_exceptions=False)


def notebook(kernel: str, language: str, *sources: str) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": language}
    return nb


def nbclient_run(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    NotebookClient(copy, timeout=60, allow_errors=True, resources={"metadata": {"path": str(cwd)}}).execute()
    return copy


def test_transport_choice() -> None:
    ipykernel = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    xeus = ["python3.11", "-m", "xpython_launcher", "-f", "{connection_file}"]
    assert choose_transport("auto", ipykernel) == "ipc"
    assert choose_transport("auto", xeus) == "tcp"
    assert choose_transport("ipc", xeus) == "ipc"
    assert choose_transport("tcp", ipykernel) == "tcp"
    with pytest.raises(ValueError):
        choose_transport("udp", xeus)


def test_xeus_python_runs_like_nbclient(tmp_path: Path) -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    if "xpython" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("xeus-python is not installed")
    nb = notebook("xpython", "python", "x = 20\nprint(x + 1)", "x * 2", "raise ValueError('boom')")
    path = tmp_path / "xeus.ipynb"
    nbformat.write(nb, path)
    result = invoke(str(path), "--allow-errors")
    assert result.exit_code == 0, result.stderr
    ours = nbformat.read(path, 4)
    assert normalized_cells(ours) == normalized_cells(nbclient_run(nb, tmp_path))
    assert ours.cells[0].outputs[0].text == "21\n"


def test_ipykernel_over_tcp(write_nb) -> None:
    path = write_nb("print('over tcp')")
    result = invoke(str(path), "--transport", "tcp", "--no-fast-start")
    assert result.exit_code == 0, result.stderr
    assert nbformat.read(path, 4).cells[0].outputs[0].text == "over tcp\n"


def test_bash_kernel_runs_like_nbclient_and_names_an_unnamed_error(
    tmp_path: Path, bash_kernel_spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbrun.kernel import fork as forkserver

    launched: list[tuple[str, ...]] = []
    monkeypatch.setattr(forkserver, "prelaunch", lambda preload=(): launched.append(preload))
    nb = notebook(bash_kernel_spec, "bash", "echo hello; echo $((6 * 7))", "false")
    path = tmp_path / "bash.ipynb"
    nbformat.write(nb, path)
    out = tmp_path / "out.ipynb"
    result = invoke(str(path), "-o", str(out), "-j", "2", "--prestart", "0")
    assert result.exit_code == 1
    assert launched == []  # defect 11: no fast-start template for a bash notebook
    assert "raised :" not in result.stderr  # defect 11: an error with an empty name
    ours = nbformat.read(out, 4)
    assert ours.cells[0].outputs[0].text == "hello\n42\n"
    reference = nbclient_run(nb, tmp_path)
    assert normalized_cells(ours)[0] == normalized_cells(reference)[0]


def test_fast_start_template_only_for_ipykernel_notebooks(tmp_path: Path) -> None:
    from nbrun.kernel.peek import any_forkable, peek_kernel_name

    bash = tmp_path / "bash.ipynb"
    nbformat.write(notebook("some-bash", "bash", "echo hi"), bash)
    python_nb = tmp_path / "py.ipynb"
    nbformat.write(notebook("python3", "python", "1"), python_nb)
    assert peek_kernel_name(bash) == "some-bash"
    assert not any_forkable([bash], None)
    assert any_forkable([bash, python_nb], None) and any_forkable([bash], "python3") and any_forkable([bash], "python")


RACY_KERNEL = """
import os, pathlib, sys
state = pathlib.Path(__file__).with_name("state")
starts = len(state.read_text().splitlines()) if state.exists() else 0
state.write_text("start\\n" * (starts + 1))
if starts < 2:  # as a kernel that lost its ports to another start
    sys.stderr.write("zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:50123')\\n")
    sys.exit(1)
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", sys.argv[1]])
"""


def test_tcp_port_races_are_retried_beyond_the_usual_attempts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "share" / "jupyter" / "kernels" / "racy"
    folder.mkdir(parents=True)
    (folder / "racy.py").write_text(RACY_KERNEL)
    (folder / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, str(folder / "racy.py"), "{connection_file}"],
                "display_name": "racy",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook("racy", "python", "print('won the ports')"), path)
    result = invoke(str(path))
    assert result.exit_code == 0, result.stderr
    assert (folder / "state").read_text().count("start") == 3  # two lost races, then the start that counts
    assert nbformat.read(path, 4).cells[0].outputs[0].text == "won the ports\n"
