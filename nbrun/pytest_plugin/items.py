"""Collection: one pytest item per notebook, with markers from ``metadata.nbrun.markers``."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from nbrun.errors import NbrunError
from nbrun.result import RunStatus

from .report import (
    NotebookFailureRepr,
    NotebookTestFailure,
    captured_streams,
    describe_failure,
    describe_import_errors,
)
from .runner import RUNNER_KEY, NotebookRunner
from .settings import SETTINGS_KEY, PluginSettings, execute_options

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
        self.nbrun_runnable = self.invalid is None
        for mark in marks_from(self.notebook.get("metadata")):
            self.add_marker(mark)

    def runtest(self) -> None:
        if self.invalid is not None:
            raise NotebookTestFailure(self.invalid, f"{self.shown_path}: {self.invalid}")
        settings: PluginSettings = self.config.stash[SETTINGS_KEY]
        runner: NotebookRunner = self.config.stash[RUNNER_KEY]
        options = execute_options(self.notebook, settings)
        with _target_for(self.path, settings, self.config.rootpath) as target:
            try:
                result = runner.run(self.path, target, options)
            except NbrunError as exc:
                raise NotebookTestFailure(str(exc), f"notebook: {self.shown_path}\n{exc}") from None
        for name, text in captured_streams(result.notebook).items():
            self.add_report_section("call", name, text)
        if result.status is not RunStatus.OK:
            raise describe_failure(self.shown_path, result)
        if settings.find_import_errors:
            failure = describe_import_errors(self.shown_path, result)
            if failure is not None:
                raise failure

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, NotebookTestFailure):
            return NotebookFailureRepr(excinfo.value)
        return super().repr_failure(excinfo, style)

    @property
    def shown_path(self) -> Path:
        """The notebook's path relative to the rootdir (absolute when outside it)."""
        root = self.config.rootpath
        return self.path.relative_to(root) if self.path.is_relative_to(root) else self.path

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, str(self.shown_path)


class _Target:
    """Where the executed notebook goes: in place, under --nbrun-output-dir, or a temp file removed after."""

    def __init__(self, path: Path, cleanup: Callable[[], None] | None) -> None:
        self.path = path
        self._cleanup = cleanup

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc_info: object) -> None:
        if self._cleanup is not None:
            self._cleanup()


def _target_for(source: Path, settings: PluginSettings, rootpath: Path) -> _Target:
    if settings.overwrite:
        return _Target(source, None)
    if settings.output_dir is not None:
        relative = source.relative_to(rootpath) if source.is_relative_to(rootpath) else Path(source.name)
        target = settings.output_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return _Target(target, None)
    target = Path(tempfile.gettempdir()) / f"nbrun-pytest-{os.getpid()}-{uuid.uuid4().hex}.ipynb"

    def remove() -> None:
        target.unlink(missing_ok=True)

    return _Target(target, remove)

