"""The kernel daemon: fresh forks per run from a warm template that outlives the command, safely reached."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from nbrun.kernel.daemon import (
    DaemonTemplate,
    DaemonUnavailable,
    daemon_or_local,
    daemon_status,
    socket_path,
    start_daemon,
)
from nbrun.kernel.daemon.place import connect
from nbrun.kernel.fork.forkserver import ForkServer
from tests.support.load import within
from tests.support.notebooks import make_notebook
from tests.support.procs import wait_gone

pytestmark = pytest.mark.kernel

PROBE = (
    "import os, json\nprint(json.dumps({'pid': os.getpid(), 'template': os.getppid(), 'cwd': os.getcwd(),"
    " 'env': os.environ.get('NBRUN_PROBE_VAR'), 'leaked': hasattr(json, 'LEAKED')}))\njson.LEAKED = True"
)


def run_probe(folder: Path, probe_var: str, *flags: str) -> dict:
    """``nbrun run --daemon`` of the probe notebook in *folder*, a separate command each time."""
    folder.mkdir(exist_ok=True)
    notebook = folder / "probe.ipynb"
    nbformat.write(make_notebook(PROBE), notebook)
    env = {**os.environ, "NBRUN_PROBE_VAR": probe_var}
    done = subprocess.run(
        [sys.executable, "-m", "nbrun.cli", "run", "--daemon", *flags, str(notebook)],
        capture_output=True,
        text=True,
        env=env,
        timeout=within(60),
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr  # the daemon was used, no fallback
    return json.loads(nbformat.read(notebook, 4).cells[0].outputs[0].text)


def test_two_runs_in_a_row_get_separate_processes_with_their_own_cwd_and_environment(
    runtime_dir: Path, tmp_path: Path
) -> None:
    first = run_probe(tmp_path / "one", "first")
    second = run_probe(tmp_path / "two", "second")
    assert first["pid"] != second["pid"]
    assert first["template"] == second["template"]  # one warm template, outliving the first command
    assert (first["cwd"], first["env"]) == (str(tmp_path / "one"), "first")
    assert (second["cwd"], second["env"]) == (str(tmp_path / "two"), "second")
    assert not second["leaked"]  # the first kernel's module state is not the second's
    status = daemon_status()
    assert status is not None and [t["pid"] for t in status.templates] == [first["template"]]
    assert status.kernels == 0  # each run's kernel ended with its run


def test_a_package_installed_between_runs_restarts_the_template(
    runtime_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_packages = tmp_path / "site-packages"
    site_packages.mkdir()
    monkeypatch.setenv("NBRUN_DAEMON_WATCH", str(site_packages))
    before = run_probe(tmp_path / "nb", "x")
    (site_packages / "newly_installed.py").write_text("")  # what pip install does to the folder
    after = run_probe(tmp_path / "nb", "x")
    assert after["template"] != before["template"]
    assert wait_gone({before["template"]}, timeout=10) == set()  # the old template ended with its last kernel


def test_a_changed_kernelspec_or_package_folder_is_noticed(tmp_path: Path) -> None:
    from nbrun.kernel.daemon.templates import Template

    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "kernel.json").write_text("{}")
    template = Template(("python", (), ()), ForkServer(sys.executable))
    paths = [str(spec), str(spec / "kernel.json")]
    assert not template.changed(paths) and not template.changed(paths)
    stat = (spec / "kernel.json").stat()
    os.utime(spec / "kernel.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert template.changed(paths)


def test_a_stale_socket_from_a_killed_daemon_is_replaced(runtime_dir: Path) -> None:
    killed = start_daemon()
    os.kill(killed, signal.SIGKILL)
    assert wait_gone({killed}) == set()
    assert socket_path().exists()  # left behind by the killed daemon
    with pytest.raises(DaemonUnavailable, match="stale socket"):
        connect()
    replacing = start_daemon()
    status = daemon_status()
    assert replacing != killed and status is not None and status.pid == replacing


def test_a_socket_open_to_others_or_of_another_user_is_never_used(
    runtime_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = runtime_dir / "nbrun"
    folder.mkdir(mode=0o700)
    impostor = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # it would answer if it were reached
    impostor.bind(str(folder / "daemon.sock"))
    impostor.listen(1)
    impostor.setblocking(False)
    try:
        os.chmod(folder / "daemon.sock", 0o666)
        with pytest.raises(DaemonUnavailable, match=r"socket .* is open to others \(mode 0666\)"):
            connect()
        os.chmod(folder / "daemon.sock", 0o600)
        folder.chmod(0o755)
        with pytest.raises(DaemonUnavailable, match=r"folder .* is open to others \(mode 0755\)"):
            connect()
        with caplog.at_level(logging.WARNING, logger="nbrun"):
            fallback = daemon_or_local(())
        assert isinstance(fallback, ForkServer)  # as without the daemon, said once
        assert [r.getMessage() for r in caplog.records if "daemon" in r.getMessage()] != []
        done = subprocess.run(
            [sys.executable, "-m", "nbrun.cli", "daemon", "status"], capture_output=True, text=True, timeout=within(30)
        )
        assert done.returncode == 1 and done.stderr.count("\n") == 1 and "open to others" in done.stderr
        folder.chmod(0o700)
        if os.geteuid() == 0:  # root can make the socket another user's
            os.chown(folder / "daemon.sock", 65534, 65534)
            with pytest.raises(DaemonUnavailable, match="belongs to uid 65534"):
                connect()
        with pytest.raises(BlockingIOError):
            impostor.accept()  # nobody ever connected to it
    finally:
        impostor.close()
        folder.chmod(0o700)


def test_the_idle_timeout_ends_the_daemon(runtime_dir: Path) -> None:
    began = time.monotonic()
    pid = start_daemon(idle_timeout=1.0)
    assert wait_gone({pid}, timeout=10) == set()
    assert time.monotonic() - began >= 1.0
    assert not socket_path().exists()


def test_exits_reach_the_run_and_kernels_of_a_closed_connection_are_terminated(
    runtime_dir: Path, tmp_path: Path
) -> None:
    async def fork_kill_then_drop() -> int:
        template = DaemonTemplate()
        template.launch()
        argv = lambda name: ["-f", str(tmp_path / name)]  # noqa: E731
        killed = await template.spawn(argv("a.json"), str(tmp_path), dict(os.environ), os.devnull)
        kept = await template.spawn(argv("b.json"), str(tmp_path), dict(os.environ), os.devnull)
        os.kill(killed.pid, signal.SIGKILL)
        deadline = time.monotonic() + within(10)
        while killed.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert killed.returncode == -signal.SIGKILL  # the exit status came back over the socket
        assert kept.poll() is None and Path(f"/proc/{kept.pid}").exists()
        await template.close()  # the run is gone without closing its kernel: only the connection says so
        return kept.pid

    pid = asyncio.run(fork_kill_then_drop())
    assert wait_gone({pid}, timeout=10) == set()


def test_the_daemon_client_and_server_import_no_kernel_machinery() -> None:
    """The CLI reaches the daemon before its heavy imports, and the daemon itself stays small."""
    code = (
        "import sys, nbrun.kernel.daemon, nbrun.kernel.daemon.server\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('jupyter_client', 'zmq', 'ipykernel', 'nbformat')]\n"
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=within(30))
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
