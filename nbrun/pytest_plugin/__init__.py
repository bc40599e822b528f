"""pytest plugin: notebooks as tests (``pytest --nbrun``), a faster drop-in for nbmake.

Registered through the ``pytest11`` entry point and inactive until ``--nbrun``
is given. Hooks only; collection is in :mod:`.items`, running in :mod:`.runner`,
options in :mod:`.settings`, failure reports in :mod:`.report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .items import RUNNER_KEY, SETTINGS_KEY, NotebookFile, should_collect
from .runner import NotebookRunner
from .settings import PluginSettings, add_options


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("nbrun"):
        return
    config.stash[SETTINGS_KEY] = PluginSettings.from_config(config)
    config.stash[RUNNER_KEY] = NotebookRunner()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    config = parent.config
    if config.getoption("nbrun") and should_collect(file_path, config.rootpath):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the kernel template while pytest reports collection (only when notebooks will run)."""
    runner = session.config.stash.get(RUNNER_KEY, None)
    if runner is not None and any(getattr(item, "nbrun", False) for item in session.items):
        runner.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    runner = config.stash.get(RUNNER_KEY, None)
    if runner is not None:
        runner.close()
