"""The values feature's pipeline stages: expectations read before the kernel starts, checked after the run.

``expect_prepare_stage`` parses ``FileOptions.expect`` and the notebook's
``metadata.nbrun.expect`` (a bad one is a usage error before any kernel
starts). ``values_stage`` runs after the cache stores the run (so a replayed
run's values are checked again, against this run's expectations): it reads
the recorded values, checks every expectation, and turns an ``ok`` run whose
expectation failed into ``expectation-failed``, in the result and in the
notebook's ``metadata.nbrun``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import UsageError
from ..notebook.model import set_run_record
from ..pipeline.core import Prepared
from ..result import ExecutionResult, RunStatus
from .expectations import Expectation, ExpectationSyntaxError, Verdict, parse_expectation
from .scraps import REPORT_NAME, recorded_values

FINDING = "expectations"  # this feature's finding in Prepared.findings, and its ExecutionResult.reports entry


def expect_prepare_stage(prepared: Prepared) -> Prepared:
    """Pipeline ``after_prepare`` stage: the run's expectations, parsed (UsageError for one outside the grammar)."""
    texts = [*prepared.run.file.expect, *declared_expectations(prepared.notebook.metadata)]
    if not texts:
        return prepared
    try:
        parsed = tuple(parse_expectation(text) for text in dict.fromkeys(texts))
    except ExpectationSyntaxError as exc:
        raise UsageError(str(exc)) from None
    return prepared.with_finding(FINDING, parsed)


def declared_expectations(metadata: Any) -> list[str]:
    """``metadata.nbrun.expect``: one string or a list of them (anything else is a usage error)."""
    record = metadata.get("nbrun") if isinstance(metadata, dict) else None
    declared = record.get("expect") if isinstance(record, dict) else None
    if declared is None:
        return []
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list) and all(isinstance(item, str) for item in declared):
        return list(declared)
    raise UsageError(f"metadata.nbrun.expect must be a string or a list of strings, not {declared!r}")


def values_stage(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """Pipeline ``post_process`` stage: the recorded values, and the verdict of each expectation."""
    values = recorded_values(result.notebook)
    if values:
        result = result.with_report(REPORT_NAME, values)
    expectations: tuple[Expectation, ...] = prepared.findings.get(FINDING, ())
    if not expectations:
        _record(result, values.to_json(), None)
        return result
    verdicts = tuple(expectation.check(values.as_dict()) for expectation in expectations)
    result = result.with_report(FINDING, verdicts)
    failed = [verdict for verdict in verdicts if not verdict.passed]
    if failed and result.status is RunStatus.OK:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        result = replace(result, status=RunStatus.EXPECTATION_FAILED, message=failed[0].message + more)
    _record(result, values.to_json(), verdicts)
    return result


def _record(result: ExecutionResult, values: dict[str, Any], verdicts: tuple[Verdict, ...] | None) -> None:
    """The values, verdicts and status in the notebook's ``metadata.nbrun`` (what the run wrote stays)."""
    if not values and verdicts is None:
        return
    record = dict(result.notebook.metadata.get("nbrun", {}))
    if values:
        record["values"] = values
    if verdicts is not None:
        record["expectations"] = [verdict.to_json() for verdict in verdicts]
        record["status"] = result.status.value
        if result.status is RunStatus.EXPECTATION_FAILED:
            record["message"] = result.message
    set_run_record(result.notebook, record)
