"""pytest plugin: notebooks as tests (``pytest --nbrun``), a faster drop-in for nbmake.

Registered through the ``pytest11`` entry point and inactive until ``--nbrun``
is given. Hooks only; collection is in :mod:`.items`, running in :mod:`.runner`,
options in :mod:`.settings`, failure reports in :mod:`.report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .settings import SETTINGS_KEY, PluginSettings, add_options

# nbrun's run path (jupyter_client, zmq) is imported only once --nbrun is given,
# so an installed-but-inactive plugin costs a test suite next to nothing.


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("nbrun"):
        return
    from .runner import RUNNER_KEY, NotebookRunner

    config.stash[SETTINGS_KEY] = PluginSettings.from_config(config)
    config.stash[RUNNER_KEY] = NotebookRunner()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.suffix != ".ipynb" or SETTINGS_KEY not in parent.config.stash:
        return None
    from .items import NotebookFile, should_collect

    if should_collect(file_path, parent.config.rootpath):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the kernel template while pytest reports collection (only when notebooks will run)."""
    if SETTINGS_KEY not in session.config.stash:
        return
    from .runner import RUNNER_KEY

    if any(getattr(item, "nbrun_runnable", False) for item in session.items):
        session.config.stash[RUNNER_KEY].start()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Tell a notebook test which test comes next, so its kernel can boot meanwhile."""
    if hasattr(item, "next_item"):
        item.next_item = nextitem


def pytest_unconfigure(config: pytest.Config) -> None:
    if SETTINGS_KEY not in config.stash:
        return
    from .runner import RUNNER_KEY

    config.stash[RUNNER_KEY].close()
