"""Machine-readable reports of a batch: the JSON run record and JUnit XML."""

from __future__ import annotations

import json
import re
import socket
import sys
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from nbrun import __version__
from nbrun.execution.cell_label import cell_label
from nbrun.reports.ansi_html import strip_ansi
from nbrun.reports.run_facts import notebook_facts, run_facts
from nbrun.runners.batch import BatchOutcome
from nbrun.status import RunStatus
from nbrun.storage.locations import Where, as_where, printable, printable_data, write_text

from .notices import raised_cells, redactions_said

# XML 1.0 cannot carry most control characters, even escaped.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MAX_CAPTURE = 1024 * 1024


def resource_figures(owner: Any) -> dict[str, Any]:
    """``peak_memory`` and ``cpu_time`` of a result or a cell record, each where it was measured."""
    return {name: getattr(owner, name) for name in ("peak_memory", "cpu_time") if getattr(owner, name) is not None}


def outcome_exit_code(outcome: BatchOutcome) -> int:
    """The status's exit code (an error raised instead of a result: the error's status)."""
    return outcome.status.exit_code_for(outcome.result.interrupted_by if outcome.result is not None else None)


def notebook_written(outcome: BatchOutcome) -> bool:
    """Whether the executed notebook was written (a run that ended, or images refused after the write)."""
    from nbrun.errors import ImageConflictError

    return outcome.result is not None or isinstance(outcome.error, ImageConflictError)


def written_to(outcome: BatchOutcome) -> Where:
    """Where the executed notebook went: the target, or beside an in-place source edited during the run."""
    result = outcome.result
    return result.diverted_to if result is not None and result.diverted_to is not None else outcome.job.target


def run_parameters(outcome: BatchOutcome) -> Mapping[str, Any] | None:
    """The values the notebook ran with: the result's (kept from an earlier run too), else those given."""
    if outcome.result is not None and outcome.result.parameters:
        return outcome.result.parameters
    return outcome.job.parameters or None


def notebook_record(outcome: BatchOutcome) -> dict[str, Any]:
    """The JSON record of one notebook."""
    result = outcome.result
    record: dict[str, Any] = {
        "input": str(outcome.job.source),
        "output": str(written_to(outcome)) if notebook_written(outcome) else None,
        "status": outcome.status.value,
        "exit_code": outcome_exit_code(outcome),
        "duration": None if outcome.timed is None else round(outcome.timed, 3),
        "message": outcome.summary() or None,
        "error": None,
        "cells": [],
        "extracted_files": [],
    }
    parameters = run_parameters(outcome)
    if parameters:
        record["parameters"] = parameters
    if result is not None and result.diverted_to is not None:  # in place, but the source was edited meanwhile
        record["diverted_from"] = str(outcome.job.target)
    if result is not None:
        record["kernel"] = result.kernel_name
        record["kernel_restarts"] = result.restarts
        record["cells"] = [cell.to_json() for cell in result.cells]
        record["extracted_files"] = [str(path) for path in result.extracted_files]
        if result.failed_cell is not None:
            record["error"] = {"cell": result.failed_cell, "ename": result.ename, "evalue": result.evalue}
        if result.check is not None:
            record["check"] = result.check.to_json()
        record.update(notebook_facts(result, outcome.job.target))  # optional fields the run page shows
        if result.recorded_values:  # nbrun.record / scrapbook's glue: {name: {"value": ..., "cell": index}}
            record["values"] = result.recorded_values.to_json()
        if result.expectations:
            record["expectations"] = [verdict.to_json() for verdict in result.expectations]
        record.update(resource_figures(result))  # the kernel's process tree, measured by nbrun
        if result.redactions is not None:  # the run had secrets: how many values were replaced
            record["redactions"] = result.redactions
        if result.cache_key is not None:  # execution cache: replayed (cached) or stored under this key
            record["cached"] = result.cached
            record["cache_key"] = result.cache_key
            use = result.cache_use
            if use is not None and use.rerun:
                record["cache_rerun"] = use.rerun  # why the run stored under the key was not replayed
            if use is not None and not use.recorded:
                record["cache_tracks"] = "declared-inputs"  # the kernel cannot record what it read
    return record


def run_record(outcomes: list[BatchOutcome], started: str, duration: float, exit_code: int) -> dict[str, Any]:
    """The JSON run record (``--json``, the run page's source), every string printable."""
    totals: dict[str, int] = {}
    for outcome in outcomes:
        totals[outcome.status.value] = totals.get(outcome.status.value, 0) + 1
    record = {
        "nbrun_version": __version__,
        "started": started,
        "duration": round(duration, 3),
        "exit_code": exit_code,
        "totals": totals,
        "notebooks": [notebook_record(outcome) for outcome in outcomes],
        **run_facts(),
    }
    cached = sum(1 for outcome in outcomes if outcome.result is not None and outcome.result.cached)
    if cached:
        record["cached"] = cached  # how many notebooks were replayed from the execution cache
    printed: dict[str, Any] = printable_data(record)
    return printed  # a name's undecodable bytes as \xNN: the record is always UTF-8


def write_json(record: dict[str, Any], destination: str) -> None:
    """To stdout ('-'), a path (atomic) or a URL (one whole upload)."""
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    if destination == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text(text, as_where(destination))


def junit_xml(outcomes: list[BatchOutcome], started: str, duration: float) -> str:
    """JUnit XML with one testcase per notebook (the format CI servers read)."""
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    suite = ET.Element("testsuite", name="nbrun", timestamp=started[:19], hostname=_clean(socket.gethostname()))
    for outcome in outcomes:
        suite.append(_testcase(outcome, counts))
    attributes = {"tests": str(len(outcomes)), **{k: str(v) for k, v in counts.items()}, "time": f"{duration:.3f}"}
    for key, value in attributes.items():
        suite.set(key, value)
    root = ET.Element(
        "testsuites",
        name="nbrun",
        tests=attributes["tests"],
        failures=attributes["failures"],
        errors=attributes["errors"],
        skipped=attributes["skipped"],
        time=attributes["time"],
    )
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(outcomes: list[BatchOutcome], destination: Where, started: str, duration: float) -> None:
    write_text(junit_xml(outcomes, started, duration), destination)


def _property_text(value: Any) -> str:
    """A recorded value as a JUnit property's text: strings as they are, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _testcase(outcome: BatchOutcome, counts: dict[str, int]) -> ET.Element:
    source = outcome.job.source
    folder = source.parent.as_posix().strip("./").replace("/", ".") or "notebooks"
    case = ET.Element(
        "testcase",
        classname=_clean(folder),
        name=_clean(source.name),
        time=f"{outcome.timed or 0:.3f}",
        file=_clean(source.as_posix()),
    )
    recorded = outcome.result.recorded_values if outcome.result is not None else None
    if recorded:  # the recorded values, as pytest's record_property writes testcase properties
        properties = ET.SubElement(case, "properties")
        for item in recorded.values:
            ET.SubElement(properties, "property", name=_clean(item.name), value=_clean(_property_text(item.value)))
    status = outcome.status
    kind = status.junit
    if status is RunStatus.INTERRUPTED and outcome.result is not None:
        kind = "error"  # it ran and did not finish; notebooks never started stay skipped
    if kind in ("failure", "error"):
        counts[f"{kind}s"] += 1
        case.append(_problem(kind, outcome))
    elif kind == "skipped":
        counts["skipped"] += 1
        ET.SubElement(case, "skipped", message=_clean(outcome.summary() or status.value))
    stdout, stderr = _captured_streams(outcome)
    raised = raised_cells(outcome.result) if outcome.result is not None and outcome.ok else []
    if raised:  # --allow-errors: the cells that raised, before what they printed
        stderr = "\n".join(["nbrun: cells that raised (--allow-errors):", *raised, stderr]).rstrip("\n")
    parameters = run_parameters(outcome)
    if parameters:  # said in system-out, where every JUnit reader shows it
        given = ", ".join(f"{name}={value!r}" for name, value in parameters.items())
        stdout = f"[nbrun] parameters: {given}\n{stdout}"
    if outcome.result is not None and outcome.result.redactions:
        stdout = f"[nbrun] {redactions_said(outcome.result.redactions)}\n{stdout}"
    if outcome.result is not None and outcome.result.cached:  # JUnit has no field for it: said in system-out
        stdout = f"[nbrun] replayed from the execution cache (key {outcome.result.cache_key})\n{stdout}"
    use = outcome.result.cache_use if outcome.result is not None else None
    if use is not None and use.rerun:
        stdout = f"[nbrun] re-run: {use.rerun}\n{stdout}"
    if stdout:
        ET.SubElement(case, "system-out").text = stdout
    if stderr:
        ET.SubElement(case, "system-err").text = stderr
    return case


def _problem(tag: str, outcome: BatchOutcome) -> ET.Element:
    result = outcome.result
    if result is not None and result.ename:
        message, kind = f"{result.ename}: {result.evalue}", result.ename
    else:
        message, kind = outcome.summary() or outcome.status.value, outcome.status.value
    element = ET.Element(tag, message=_clean(message.splitlines()[0] if message else ""), type=_clean(kind))
    element.text = _failure_details(outcome)
    return element


def failing_traceback(outcome: BatchOutcome) -> str:
    """The traceback(s) the failing cell's kernel recorded ('' if none)."""
    result = outcome.result
    if result is None or result.failed_cell is None:
        return ""
    outputs = result.notebook.cells[result.failed_cell].get("outputs", [])
    return "\n".join("\n".join(o.get("traceback", [])) for o in outputs if o.get("output_type") == "error")


def _failure_details(outcome: BatchOutcome) -> str:
    result = outcome.result
    if result is not None and result.check is not None and not result.check.passed:
        from .check_verdicts import check_details

        return _clean(check_details(outcome.job.source, result.check))
    if result is None or result.failed_cell is None:
        return _clean(outcome.summary())
    source = result.notebook.cells[result.failed_cell].get("source", "")
    parts = [
        outcome.summary(),
        "",
        f"Source of {cell_label(result.failed_cell)}:",
        source,
        "",
        failing_traceback(outcome),
    ]
    return _clean("\n".join(parts))


def _captured_streams(outcome: BatchOutcome) -> tuple[str, str]:
    if outcome.result is None:
        return "", ""
    streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
    for cell in outcome.result.notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") in streams:
                text = output.get("text", "")
                streams[output["name"]].append("".join(text) if isinstance(text, list) else text)
    return tuple(_clean("".join(parts)[:_MAX_CAPTURE]) for parts in (streams["stdout"], streams["stderr"]))  # type: ignore[return-value]


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", strip_ansi(printable(text)))
