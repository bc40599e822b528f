"""One folder of environments for the whole test session (every xdist worker), so each is built once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_env_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's folder of environments: beside the workers' own temporary folders, shared by them.

    Builds of one digest are locked, so workers wait for each other instead of building twice.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / "nbrun-envs"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def env_dir(shared_env_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``$NBRUN_ENV_DIR`` set to the shared folder for this test (nbrun processes it starts inherit it)."""
    monkeypatch.setenv("NBRUN_ENV_DIR", str(shared_env_dir))
    yield shared_env_dir
