"""Live cell output when several notebooks run: each line prefixed with its notebook's name.

Also ``--stdout-file`` / ``--stderr-file`` (papermill's flags): the cells'
streams written to files, with ``{name}`` / ``{stem}`` placeholders naming the
notebook in a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import click

from nbrun.events import ExecutionObserver
from nbrun.result import ExecutionResult
from nbrun.runners.batch import BatchJob
from nbrun.storage.locations import Where, printable

_COLOURS = ("36", "33", "35", "32", "34", "31")  # cyan, yellow, magenta, green, blue, red


def log_labels(jobs: Sequence[BatchJob], colour: bool) -> dict[Where, str]:
    """The aligned ``name | `` prefix per job (keyed by output path); empty when one notebook runs."""
    if len(jobs) < 2:
        return {}
    names = [job.source.name for job in jobs]
    sources = [job.source for job in jobs]
    labels = []
    for job in jobs:
        if sources.count(job.source) > 1:  # --params-grid: the same notebook, told apart by its output
            labels.append(str(job.target))
        else:
            labels.append(job.source.name if names.count(job.source.name) == 1 else str(job.source))
    labels = [printable(label) for label in labels]  # a name's undecodable bytes as \xNN
    width = max(len(label) for label in labels)
    prefixes = {}
    for number, (job, label) in enumerate(zip(jobs, labels)):
        text = f"{label.ljust(width)} | "
        prefixes[job.target] = f"\x1b[{_COLOURS[number % len(_COLOURS)]}m{text}\x1b[0m" if colour else text
    return prefixes


class LinePrefixer:
    """Splits streamed text into lines and puts *prefix* before each (partial lines wait for their end)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._pending: dict[str, str] = {}

    def feed(self, name: str, text: str) -> str:
        """The complete lines *text* finishes on stream *name*, prefixed ('' while a line is open)."""
        text = self._pending.pop(name, "") + text
        head, newline, tail = text.rpartition("\n")
        if tail:
            self._pending[name] = tail
        if not newline:
            return ""
        return "".join(f"{self.prefix}{line}\n" for line in head.split("\n"))

    def flush(self) -> str:
        """Whatever partial lines are left, each ended with a newline."""
        lines, self._pending = self._pending, {}
        return "".join(f"{self.prefix}{line}\n" for line in lines.values())


def check_stream_files(stdout_file: str | None, stderr_file: str | None, jobs: int) -> None:
    """Several notebooks need a placeholder, or they would all write one file."""
    for flag, template in (("--stdout-file", stdout_file), ("--stderr-file", stderr_file)):
        if template is not None and jobs > 1 and "{name}" not in template and "{stem}" not in template:
            raise click.UsageError(
                f"{flag} with several notebooks needs {{name}} or {{stem}} in FILE, e.g. 'logs/{{stem}}.out'"
            )


class StreamFiles(ExecutionObserver):
    """Writes one notebook's cell stdout/stderr to the files named by the templates."""

    def __init__(self, job: BatchJob, templates: Mapping[str, str | None]) -> None:
        self._paths = {
            name: Path(template.replace("{name}", job.target.name).replace("{stem}", job.target.stem))
            for name, template in templates.items()
            if template is not None
        }
        self._files: dict[str, IO[str]] = {}

    def notebook_started(self, code_cells: int) -> None:
        for name, path in self._paths.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            self._files[name] = open(path, "w", encoding="utf-8")

    def stream_text(self, index: int, name: str, text: str) -> None:
        handle = self._files.get(name)
        if handle is not None:
            handle.write(text)
            handle.flush()

    def notebook_finished(self, result: ExecutionResult) -> None:
        self.close()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
