"""Helpers for the pytest-plugin tests: notebook projects in tmp folders, run by a real `python -m pytest`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import nbformat

from tests.support.load import within
from tests.support.notebooks import make_notebook


def write_notebook(
    path: Path,
    *sources: str | tuple[str, list[str]],
    metadata: dict[str, Any] | None = None,
    cell_metadata: dict[int, dict[str, Any]] | None = None,
) -> Path:
    """Write a python3 notebook (with optional notebook / per-cell metadata) at *path*."""
    nb = make_notebook(*sources)
    nb.metadata.update(metadata or {})
    for index, extra in (cell_metadata or {}).items():
        nb.cells[index].metadata.update(extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def project(root: Path) -> Path:
    """An empty project folder whose own pytest.ini pins the rootdir."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


@dataclass
class Case:
    """One test case as the JUnit report tells it."""

    outcome: str  # passed, failed, skipped
    message: str
    text: str
    stdout: str
    stderr: str


@dataclass
class PytestRun:
    proc: subprocess.CompletedProcess[str]
    cases: dict[str, Case]

    @property
    def output(self) -> str:
        return self.proc.stdout + self.proc.stderr


def run_pytest(folder: Path, *args: str, timeout: float | None = None) -> PytestRun:
    """`python -m pytest -p no:cacheprovider --junitxml ... ARGS` in *folder*; cases keyed by notebook file name."""
    junit = folder / ".junit.xml"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    proc = subprocess.run(  # hypothesis and nbmake (if installed) only slow down the start
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            "-p",
            "no:nbmake",
            f"--junitxml={junit}",
            "-o",
            "junit_logging=all",
            *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=within(120) if timeout is None else timeout,
        env=env,
    )
    cases: dict[str, Case] = {}
    if junit.exists():
        for case in ET.parse(junit).getroot().iter("testcase"):
            outcome, message, text = "passed", "", ""
            for kind in ("failure", "error", "skipped"):
                node = case.find(kind)
                if node is not None:
                    outcome = "skipped" if kind == "skipped" else "failed"
                    message, text = node.get("message", ""), node.text or ""
            streams = {
                name: "".join(node.text or "" for node in case.iter(f"system-{name}")) for name in ("out", "err")
            }
            cases[case.get("name", "")] = Case(outcome, message, text, streams["out"], streams["err"])
        junit.unlink()
    return PytestRun(proc, cases)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every notebook's bytes, to prove nothing on disk changed."""
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*.ipynb"))}


def stdout_of(path: Path) -> str:
    """All stdout text saved in the notebook at *path*."""
    return "".join(
        "".join(o["text"])
        for cell in json.loads(path.read_text())["cells"]
        for o in cell.get("outputs", [])
        if o.get("name") == "stdout"
    )


def _default_sigint() -> None:
    """Python ignores Ctrl-C if it starts with SIGINT ignored (as background jobs of a shell do)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def ctrl_c_pytest(
    folder: Path, *args: str, once_exist: list[Path], check_running: Callable[[], None] = lambda: None
) -> tuple[int, str]:
    """`python -m pytest ARGS` in *folder*, Ctrl-C'd (SIGINT to its group) once every file in *once_exist* exists.

    *check_running* asserts what should be true just before the interrupt. Returns pytest's exit code and output.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
    proc = subprocess.Popen(
        [*command, "-p", "no:nbmake", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + within(90)
        while not all(path.exists() for path in once_exist) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert all(path.exists() for path in once_exist), proc.communicate(timeout=30)[0]
        check_running()
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        try:
            output, _ = proc.communicate(timeout=45)
        except subprocess.TimeoutExpired:  # seen once in ~20 runs of the whole suite: a user presses Ctrl-C again
            os.killpg(proc.pid, signal.SIGINT)
            output, _ = proc.communicate(timeout=45)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, output
