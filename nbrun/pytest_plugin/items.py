"""Collection: one pytest item per notebook, with markers from ``metadata.nbrun.markers``."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbrun.errors import NbrunError
from nbrun.result import RunStatus

from .failures import (
    NotebookTestFailure,
    captured_streams,
    describe_failure,
    describe_import_errors,
    failure_repr,
)
from .lookahead import upcoming_items, will_run
from .runner import RUNNER_KEY, NotebookJob, NotebookRunner
from .settings import SETTINGS_KEY, PluginSettings, execute_options, file_options

SKIPPED_FOLDERS = ("_build", ".ipynb_checkpoints")


def should_collect(path: Path, rootpath: Path) -> bool:
    """A notebook outside ``_build``, ``.ipynb_checkpoints`` and hidden folders (below the rootdir)."""
    if path.suffix != ".ipynb":
        return False
    try:
        parts = path.relative_to(rootpath).parts[:-1]
    except ValueError:
        parts = path.parts[-2:-1]
    return not any(part in SKIPPED_FOLDERS or part.startswith(".") for part in parts)


def marks_from(metadata: Any) -> list[pytest.MarkDecorator]:
    """``metadata.nbrun.markers``: names (``"slow"``) or ``{"name": "xfail", "reason": ...}`` objects."""
    entries = metadata.get("nbrun", {}).get("markers", []) if isinstance(metadata, dict) else []
    marks = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str) and entry.isidentifier():
            marks.append(getattr(pytest.mark, entry))
        elif isinstance(entry, dict) and str(entry.get("name", "")).isidentifier():
            kwargs = {key: value for key, value in entry.items() if key != "name"}
            marks.append(getattr(pytest.mark, entry["name"])(**kwargs))
    return marks


class NotebookFile(pytest.File):
    """A ``.ipynb`` file: collects a single :class:`NotebookItem`."""

    def collect(self) -> Iterator[pytest.Item]:
        yield NotebookItem.from_parent(self, name=self.path.name)


class NotebookItem(pytest.Item):
    """Runs one notebook through nbrun; fails with a report naming the failing cell."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.notebook: dict[str, Any] = {}
        self.invalid: str | None = None
        try:
            with open(self.path, encoding="utf-8") as handle:
                loaded = json.load(handle)
            if not isinstance(loaded, dict):
                raise ValueError("the top level is not a JSON object")
            self.notebook = loaded
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.invalid = f"not a valid notebook (not valid JSON: {exc})"
        self.next_item: pytest.Item | None = None  # set by the plugin's pytest_runtest_protocol hook
        self._job: NotebookJob | None = None
        for mark in self._marks():
            self.add_marker(mark)

    def _marks(self) -> list[pytest.MarkDecorator]:
        """The notebook's markers; pytest's unknown-marker warning points at the notebook, not at this file."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pytest.PytestUnknownMarkWarning)
            marks = marks_from(self.notebook.get("metadata"))
        for warning in caught:
            if issubclass(warning.category, pytest.PytestUnknownMarkWarning):
                message = f"{warning.message} (from metadata.nbrun.markers of {self.path.name})"
                warnings.warn_explicit(message, warning.category, str(self.path), 1)
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        return marks

    def job(self) -> NotebookJob | None:
        """This notebook's run (``None`` when it cannot run); made once, so a prestart and the test agree."""
        if self.invalid is not None:
            return None
        if self._job is None:
            settings: PluginSettings = self.config.stash[SETTINGS_KEY]
            target = _target_for(self.path, settings, self.config.rootpath)
            self._job = NotebookJob(
                self.nodeid,
                self.path,
                target,
                execute_options(self.notebook, settings),
                file_options(settings),
                settings.check,
                temporary=target.name.startswith(_TEMP_PREFIX),
            )
        return self._job

    def runtest(self) -> None:
        job = self.job()
        if job is None:
            raise NotebookTestFailure(str(self.invalid), f"{self.shown_path}: {self.invalid}")
        settings: PluginSettings = self.config.stash[SETTINGS_KEY]
        runner: NotebookRunner = self.config.stash[RUNNER_KEY]
        try:
            result = runner.run(job, self._upcoming_jobs(settings.jobs))
        except NbrunError as exc:
            raise NotebookTestFailure(str(exc), f"notebook: {self.shown_path}\n{exc}") from None
        finally:
            job.discard_target()
        for name, text in captured_streams(result.notebook).items():
            self.add_report_section("call", name, text)
        if result.status is not RunStatus.OK:
            raise describe_failure(self.shown_path, result)
        if result.check is not None and not result.check.passed:  # --nbrun-check: outputs differ
            from nbrun.check.pytest_options import failure_text

            raise NotebookTestFailure(
                f"outputs differ from the stored ones in {self.shown_path}",
                failure_text(result.check, str(self.shown_path)),
            )
        if settings.find_import_errors:
            failure = describe_import_errors(self.shown_path, result)
            if failure is not None:
                raise failure

    def _upcoming_jobs(self, jobs: int) -> list[NotebookJob]:
        """The next *jobs* notebooks this process will run (the last of them only boots its kernel)."""
        found: list[NotebookJob] = []
        for scanned, item in enumerate(upcoming_items(self, self.next_item)):
            if len(found) == jobs or scanned == _LOOKAHEAD_SCAN:
                break
            job = item.job() if isinstance(item, NotebookItem) and will_run(item) else None
            if job is not None:
                found.append(job)
        return found

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, NotebookTestFailure):
            return failure_repr(excinfo.value, self.path, colour=self.config.get_terminal_writer().hasmarkup)
        return super().repr_failure(excinfo, style)

    @property
    def shown_path(self) -> Path:
        """The notebook's path relative to the rootdir (absolute when outside it)."""
        root = self.config.rootpath
        return self.path.relative_to(root) if self.path.is_relative_to(root) else self.path

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, str(self.shown_path)


_TEMP_PREFIX = "nbrun-pytest-"
_LOOKAHEAD_SCAN = 1000  # items looked at for the next notebooks (a suite of mostly other tests stays cheap)


def _target_for(source: Path, settings: PluginSettings, rootpath: Path) -> Path:
    """In place (--nbrun-overwrite), under --nbrun-output-dir, or a temp file removed after the test."""
    if settings.overwrite:
        return source
    if settings.output_dir is not None:
        relative = source.relative_to(rootpath) if source.is_relative_to(rootpath) else Path(source.name)
        target = settings.output_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target
    return Path(tempfile.gettempdir()) / f"{_TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}.ipynb"
