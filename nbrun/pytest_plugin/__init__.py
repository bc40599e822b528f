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
    runs_notebooks = not config.option.collectonly and not _is_xdist_controller(config)
    if runs_notebooks:  # the kernel template boots while nbrun's run path is imported and pytest collects
        from nbrun.kernel.fork.templates import discard_prelaunched, prelaunch

        prelaunch()
    try:
        from .runner import RUNNER_KEY, NotebookRunner

        settings = config.stash[SETTINGS_KEY] = PluginSettings.from_config(config)
    except BaseException:
        if runs_notebooks:
            discard_prelaunched()
        raise
    runner = config.stash[RUNNER_KEY] = NotebookRunner(jobs=settings.jobs)
    if runs_notebooks:
        runner.start()


def _is_xdist_controller(config: pytest.Config) -> bool:
    """True in the process that only hands tests to xdist workers (it runs no notebook)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.suffix != ".ipynb" or SETTINGS_KEY not in parent.config.stash:
        return None
    from .items import NotebookFile, should_collect

    if should_collect(file_path, parent.config.rootpath):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Tell a notebook test which test comes next, so the notebooks after it can start meanwhile."""
    if hasattr(item, "next_item"):
        item.next_item = nextitem


def pytest_unconfigure(config: pytest.Config) -> None:
    if SETTINGS_KEY not in config.stash:
        return
    from .runner import RUNNER_KEY

    config.stash[RUNNER_KEY].close()
