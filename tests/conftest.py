"""Shared fixtures: notebook writers, process checks, the background quiet-cell runs.

Helpers live in the importable package ``tests.support``."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest

from tests.support.notebooks import SAMPLES, make_notebook
from tests.support.procs import kernel_pids

os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")


@pytest.fixture
def write_nb(tmp_path: Path) -> Callable[..., Path]:
    """Write a notebook built from sources into tmp_path; return its path."""

    def writer(*sources: str | tuple[str, list[str]], name: str = "nb.ipynb") -> Path:
        path = tmp_path / name
        nbformat.write(make_notebook(*sources), path)
        return path

    return writer


@pytest.fixture
def sample_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a sample notebook (and its data folder) into tmp_path."""

    def copier(name: str) -> Path:
        shutil.copy(SAMPLES / name, tmp_path / name)
        if (SAMPLES / "data").is_dir() and not (tmp_path / "data").exists():
            shutil.copytree(SAMPLES / "data", tmp_path / "data")
        return tmp_path / name

    return copier


@pytest.fixture
def bash_kernel_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """bash_kernel's spec in a private JUPYTER_PATH (pip does not install it)."""
    pytest.importorskip("bash_kernel")
    folder = tmp_path / "share" / "jupyter" / "kernels" / "nbrun-test-bash"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "bash_kernel", "-f", "{connection_file}"],
                "display_name": "Bash",
                "language": "bash",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    return "nbrun-test-bash"


@pytest.fixture
def no_leaked_kernels() -> Iterator[None]:
    """Fail if a kernel process started during the test is still alive after it."""
    before = kernel_pids()
    yield
    leaked = kernel_pids() - before
    assert not leaked, f"kernel processes left behind: {sorted(leaked)}"


@pytest.fixture(autouse=True)
def every_written_notebook_validates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Issue 12: each notebook nbrun writes in this process (final or autosave) must pass nbformat.validate."""
    import nbrun.images.extract  # noqa: F401 - imports write_text_atomic by name: before the patch, never the patched one
    import nbrun.notebook.files as notebook_files

    original = notebook_files.write_text_atomic
    invalid: list[str] = []

    def checked(text, path, *args):  # type: ignore[no-untyped-def]
        original(text, path, *args)
        real = Path(os.path.realpath(path))
        if real.suffix == ".ipynb" and real.stat().st_size < 20 * 2**20:
            try:
                nbformat.validate(nbformat.read(real, 4))
            except nbformat.ValidationError as exc:
                invalid.append(f"{real}: {str(exc).splitlines()[0]}")

    monkeypatch.setattr(notebook_files, "write_text_atomic", checked)
    yield
    assert not invalid, f"nbrun wrote invalid notebooks: {invalid}"


QUIET_RUNS_TEST = "test_long_quiet_cells_and_bursts_after_them_pass_everywhere"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The test that waits for the background quiet-cell runs goes last, when they are done."""
    items.sort(key=lambda item: item.name == QUIET_RUNS_TEST)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the long quiet-cell runs early when their test is selected (see quiet_background)."""
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0":
        return  # under xdist one worker starts them, in a folder every worker finds
    if any(item.name == QUIET_RUNS_TEST for item in session.items):
        from tests.support import quiet_background

        quiet_background.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.support import quiet_background

    quiet_background.stop()


_PRISTINE_NBRUN_LOGGER = (
    list(logging.getLogger("nbrun").handlers),
    logging.getLogger("nbrun").propagate,
    logging.getLogger("nbrun").level,
)


@pytest.fixture(autouse=True)
def nbrun_logger_restored() -> Iterator[None]:
    """The CLI configures the ``nbrun`` logger when invoked in-process; later tests get it back untouched.

    Restored to the state before any test ran, not the state at this test's start: a module-scoped fixture
    that invokes the CLI runs before this fixture and would otherwise leave the logger detached for good.
    """
    logger = logging.getLogger("nbrun")
    logger.handlers[:], logger.propagate, logger.level = _PRISTINE_NBRUN_LOGGER
    yield
    logger.handlers[:], logger.propagate, logger.level = _PRISTINE_NBRUN_LOGGER
