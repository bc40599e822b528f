"""GitHub Actions, natively: an annotation per failed notebook and a Markdown job summary.

Under ``GITHUB_ACTIONS=true`` (or ``--github``) each failed notebook is one
``::error file=…,line=…,title=…::`` workflow command, pointing at the
failing cell's first source line in the notebook as it is in the repository
(the ``.ipynb`` JSON, or the ``.py`` / ``.md`` of a text notebook); truncated
output and cells that raised under ``--allow-errors`` are ``::warning``. The
commands go to stderr, which the runner reads as it reads stdout (stdout may
carry ``--json -``). The summary (totals, failures with cell and error,
recorded values, slowest notebooks) is appended to ``$GITHUB_STEP_SUMMARY``;
``--summary-md FILE`` writes the same Markdown anywhere (GitLab, Buildkite).
On a runner, every secret's value and encoded forms are masked
(``::add-mask::``) before anything else is printed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from nbrun.execution.cell_label import notebook_cell_label
from nbrun.runners.batch import BatchOutcome
from nbrun.secrets import Secrets
from nbrun.secrets.values import encoded_forms

from .notices import raised_cells, truncation_warning

SLOWEST = 5


def in_github_actions(forced: bool) -> bool:
    return forced or os.environ.get("GITHUB_ACTIONS") == "true"


def mask_commands(secrets: Secrets) -> list[str]:
    """``::add-mask::`` for every secret and its encoded forms, on a real runner only.

    Not under ``--github`` elsewhere: there the command would print the value.
    """
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return []
    forms = {form for secret in secrets for form in encoded_forms(secret.value)}
    lines = {line for form in forms for line in form.splitlines() if line.strip()}  # the runner masks line by line
    return [f"::add-mask::{_data(line)}" for line in sorted(lines)]


def workflow_commands(outcomes: Sequence[BatchOutcome], workspace: Path | None = None) -> list[str]:
    """The workflow commands for the run: ``::error`` per failed notebook, ``::warning`` per notice."""
    root = workspace or Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    commands = []
    for outcome in outcomes:
        source, result = outcome.job.source, outcome.result
        if not isinstance(source, Path):
            continue
        file = _relative(source, root)
        failed_cell = result.failed_cell if result is not None else None
        line = _cell_line(source, failed_cell) if failed_cell is not None else None
        where = f"file={_property(file)}" + (f",line={line}" if line else "")
        if not outcome.ok and outcome.status != "skipped":
            where_failed = (
                f" in {notebook_cell_label(result.notebook, failed_cell)}" if result and failed_cell is not None else ""
            )
            title = f"{source.name}: {outcome.status}{where_failed}"
            commands.append(f"::error {where},title={_property(title)}::{_data(outcome.summary() or outcome.status)}")
        if result is None:
            continue
        truncated = truncation_warning(result)
        if truncated:
            commands.append(
                f"::warning file={_property(file)},title={_property(source.name + ': output truncated')}::{_data(truncated)}"
            )
        if outcome.ok:
            for raised in raised_cells(result):
                commands.append(
                    f"::warning file={_property(file)},title={_property(source.name + ': a cell raised (--allow-errors)')}::{_data(raised)}"
                )
    return commands


def summary_markdown(outcomes: Sequence[BatchOutcome], duration: float, workspace: Path | None = None) -> str:
    """The job summary: totals, failures, recorded values, slowest notebooks."""
    root = workspace or Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    totals: dict[str, int] = {}
    for outcome in outcomes:
        totals[outcome.status] = totals.get(outcome.status, 0) + 1
    counts = ", ".join(f"{count} {status}" for status, count in sorted(totals.items()))
    failed = [outcome for outcome in outcomes if not outcome.ok and outcome.status != "skipped"]
    mark = "❌" if failed else "✅"
    lines = [
        f"## {mark} nbrun: {len(outcomes)} notebook{'s' if len(outcomes) != 1 else ''}: {counts} in {duration:.2f} s",
        "",
    ]
    if failed:
        lines += ["### Failures", "", "| notebook | status | cell | error |", "|---|---|---|---|"]
        for outcome in failed:
            result = outcome.result
            cell = result.failed_cell if result is not None else None
            label = notebook_cell_label(result.notebook, cell) if result is not None and cell is not None else ""
            lines.append(
                f"| {_cell(_name(outcome, root))} | {outcome.status} | {_cell(label)} | {_cell(outcome.summary() or '')} |"
            )
        lines.append("")
    values = [(outcome, outcome.result.recorded_values) for outcome in outcomes if outcome.result is not None]
    recorded = [(outcome, item) for outcome, found in values if found for item in found.values]
    if recorded:
        lines += ["### Recorded values", "", "| notebook | name | value |", "|---|---|---|"]
        for outcome, item in recorded:
            shown = item.value if isinstance(item.value, str) else json.dumps(item.value, ensure_ascii=False)
            lines.append(f"| {_cell(_name(outcome, root))} | {_cell(item.name)} | {_cell(str(shown))} |")
        lines.append("")
    timed = sorted((outcome for outcome in outcomes if outcome.timed is not None), key=lambda o: -(o.timed or 0))
    if len(timed) > 1:
        lines += ["### Slowest notebooks", "", "| notebook | time |", "|---|---|"]
        lines += [f"| {_cell(_name(outcome, root))} | {outcome.timed or 0:.2f} s |" for outcome in timed[:SLOWEST]]
        lines.append("")
    return "\n".join(lines)


def _cell_line(source: Path, index: int) -> int | None:
    """The 1-based line of cell *index*'s first source line in *source* as it is on disk (None: not found)."""
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if source.suffix != ".ipynb":
        return _text_notebook_line(source, text, index)
    lines = text.splitlines()
    starts = [number for number, line in enumerate(lines) if re.match(r'\s*"source":', line)]
    try:
        cells = json.loads(text)["cells"]
        cell_id = cells[index].get("id")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    number = None
    if isinstance(cell_id, str):  # the line holding the cell's id, then its source key after it
        anchor = next((n for n, line in enumerate(lines) if f'"id": {json.dumps(cell_id)}' in line), None)
        number = next((n for n in starts if anchor is not None and n > anchor), None)
    if number is None and len(starts) == len(cells):
        number = starts[index]
    if number is None:
        return None
    return number + 2 if lines[number].rstrip().endswith("[") else number + 1


def _text_notebook_line(source: Path, text: str, index: int) -> int | None:
    """A text notebook: the line of the cell's first non-blank source line, after the earlier cells'."""
    try:
        from nbrun.notebook.files import read_notebook

        nb = read_notebook(source)
    except Exception:  # noqa: BLE001 - a location only: any failure means no line
        return None
    lines, position, found = text.splitlines(), 0, None
    for number, cell in enumerate(nb.cells[: index + 1]):
        first = next((line.strip() for line in str(cell.get("source", "")).splitlines() if line.strip()), None)
        if first is None:
            continue
        hit = next((n for n in range(position, len(lines)) if lines[n].strip() == first), None)
        if hit is None:
            return None
        position = hit + 1
        if number == index:
            found = hit + 1
    return found


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _name(outcome: BatchOutcome, root: Path) -> str:
    source = outcome.job.source
    return _relative(source, root) if isinstance(source, Path) else str(source)


def _data(text: str) -> str:
    """A workflow command's message, escaped as the runner reads it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def write_summary(markdown: str, destinations: Iterable[Path]) -> None:
    """Append the summary to ``$GITHUB_STEP_SUMMARY`` (the runner's contract) and write ``--summary-md``."""
    for path in destinations:
        with open(path, "a" if path == _step_summary() else "w", encoding="utf-8") as handle:
            handle.write(markdown + "\n")


def _step_summary() -> Path | None:
    value = os.environ.get("GITHUB_STEP_SUMMARY")
    return Path(value) if value else None


def summary_destinations(github: bool, summary_md: Path | None) -> list[Path]:
    """Where the summary goes: ``$GITHUB_STEP_SUMMARY`` under GitHub Actions, and ``--summary-md``."""
    found = [path for path in (_step_summary() if github else None, summary_md) if path is not None]
    return list(dict.fromkeys(found))
