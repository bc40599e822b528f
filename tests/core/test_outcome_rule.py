"""One rule for outcomes: each error class names its RunStatus, and every report reads it.

The JSON record, the events stream, JUnit, the summary table and the exit code
of a job that raised must all say the same thing: what the error's ``status``
says. Every NbrunError subclass in the library is walked, so a new error class
cannot slip past the rule.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import nbrun
from nbrun import errors
from nbrun.cli.output.run_records import notebook_record, outcome_exit_code, write_junit
from nbrun.cli.output.summary import summary_table
from nbrun.options import ExecuteOptions
from nbrun.runners.batch import BatchJob, BatchOutcome
from nbrun.status import CellStatus, RunStatus

SCHEMAS = Path(nbrun.__file__).parent / "schemas"


def _all_error_classes() -> list[type[errors.NbrunError]]:
    for module in pkgutil.walk_packages(nbrun.__path__, "nbrun."):
        if module.name.startswith("nbrun.pytest_plugin") or module.name.endswith(("_forkserver", "__main__")):
            continue  # the plugin imports pytest's hooks; the fork server and __main__ run as scripts
        importlib.import_module(module.name)
    found: list[type[errors.NbrunError]] = []
    pending = [errors.NbrunError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda cls: cls.__name__)


def _instance(cls: type[errors.NbrunError]) -> errors.NbrunError:
    """An instance of *cls*, whatever its constructor asks for."""
    arguments: dict[str, Any] = {
        "path": "x.ipynb",
        "problem": "a problem",
        "message": "a message",
        "name": "nokernel",
        "available": ["python3"],
        "what": "--html",
        "extra": "html",
    }
    parameters = [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    if not parameters:
        return cls("a message")
    return cls(**{p.name: arguments[p.name] for p in parameters})


ERROR_CLASSES = _all_error_classes()


def test_the_walk_finds_every_error_class_and_each_lives_in_errors() -> None:
    names = {cls.__name__ for cls in ERROR_CLASSES}
    assert {"ParameterError", "MissingExtraError", "LocationError", "CellTimeoutError", "DaskConnectError"} <= names
    assert {cls.__module__ for cls in ERROR_CLASSES} == {"nbrun.errors"}, "one place for the error hierarchy"
    for cls in ERROR_CLASSES:
        assert cls.__name__ in (errors.__doc__ or ""), f"{cls.__name__} is missing from the documented tree"


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_record_summary_junit_and_exit_code_read_the_error_status(tmp_path: Path, cls: type[errors.NbrunError]) -> None:
    assert isinstance(cls.status, RunStatus)
    error = _instance(cls)
    job = BatchJob(tmp_path / "a.ipynb", tmp_path / "a.ipynb", ExecuteOptions())
    outcome = BatchOutcome(job, error=error)
    assert outcome.status is cls.status
    record = notebook_record(outcome)
    assert record["status"] == cls.status.value
    assert record["exit_code"] == outcome_exit_code(outcome) == cls.status.exit_code
    assert cls.status.label in summary_table([outcome], 0.0)
    write_junit([outcome], tmp_path / "junit.xml", "2026-01-01T00:00:00Z", 0.0)
    case = ET.parse(tmp_path / "junit.xml").getroot().find(".//testcase")
    assert case is not None
    kinds = {child.tag for child in case} & {"failure", "error", "skipped"}
    assert kinds == (set() if cls.status.junit == "passed" else {cls.status.junit})


def test_usage_errors_exit_2_as_the_help_text_says() -> None:
    for cls in (errors.ParameterError, errors.MissingExtraError, errors.LocationError, errors.SanitizerFileError):
        assert cls.status is RunStatus.USAGE_ERROR and cls.status.exit_code == 2


def test_the_schemas_list_every_status() -> None:
    run_statuses = sorted(status.value for status in RunStatus)
    cell_statuses = sorted(status.value for status in CellStatus)
    record = json.loads((SCHEMAS / "run-record.schema.json").read_text())
    enums = _status_enums(record)
    events = _status_enums(json.loads((SCHEMAS / "events.schema.json").read_text()))
    assert sorted(map(sorted, enums)) == sorted([run_statuses, cell_statuses])
    assert sorted(map(sorted, events)) == sorted([run_statuses, cell_statuses])


def _status_enums(node: Any) -> list[list[str]]:
    found: list[list[str]] = []
    if isinstance(node, dict):
        for holder in ("properties", "$defs"):  # a status property, or the shared definition it refers to
            status = node.get(holder, {}).get("status") if isinstance(node.get(holder), dict) else None
            if isinstance(status, dict) and "enum" in status:
                found.append(status["enum"])
        for value in node.values():
            found.extend(_status_enums(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_status_enums(value))
    return found


def test_refused_parameters_are_a_usage_error_in_the_record_and_the_exit_code(tmp_path: Path) -> None:
    """Before: the JSON record said io-error while the process exited 2."""
    notebook = tmp_path / "p.ipynb"
    cell = new_code_cell("x = 1")
    cell.metadata["tags"] = ["parameters"]
    nbformat.write(
        new_notebook(
            cells=[cell], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        ),
        notebook,
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbrun",
            "run",
            str(notebook),
            "--strict-params",
            "-p",
            "nope",
            "1",
            "--json",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    record = json.loads((tmp_path / "r.json").read_text())
    (entry,) = record["notebooks"]
    assert proc.returncode == 2, proc.stderr
    assert entry["status"] == "usage-error" and entry["exit_code"] == 2, entry
    assert "Traceback" not in proc.stderr
