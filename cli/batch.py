"""Running the planned notebooks and telling the user (the plan itself: ``inputs.plan``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

import click

from nbrun.control import RunControl
from nbrun.errors import NbrunError
from nbrun.events import ExecutionObserver
from nbrun.kernel.protocol import utc_now
from nbrun.options import BatchOptions
from nbrun.reports.ansi_html import strip_ansi
from nbrun.runners.batch import BatchJob, BatchObserver, BatchOutcome, Runner, run_batch
from nbrun.status import RunStatus
from nbrun.storage.locations import Where, printable

from . import exit_codes
from .errors import about
from .output.event_stream import EventStream, Tee
from .output.github import (
    in_github_actions,
    summary_destinations,
    summary_markdown,
    workflow_commands,
    write_summary,
)
from .output.live import TerminalObserver, is_tty
from .output.log_lines import StreamFiles, log_labels
from .output.notices import cache_on_declared_inputs_only, raised_cells, redactions_said, stdin_hint, truncation_warning
from .output.run_records import (
    failing_traceback,
    outcome_exit_code,
    run_record,
    write_json,
    write_junit,
)
from .output.summary import summary_table

# Each one stops the run as a first Ctrl-C does (a second forces); SIGHUP (terminal closed) as SIGTERM.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@dataclass(frozen=True)
class Presentation:
    """How the CLI shows a batch: progress, live output, reports."""

    show_progress: bool
    log_output: bool
    verbose: int
    junit_xml: Where | None = None
    json_report: str | None = None
    display: Mapping[Path, str] = field(default_factory=dict)  # names shown for stdin/stdout stand-ins
    report_page: Where | None = None
    events: EventStream | None = None  # --events
    stream_files: Mapping[str, str | None] = field(default_factory=dict)  # --stdout-file / --stderr-file templates
    github: bool = False  # --github (GITHUB_ACTIONS=true turns it on too)
    writes_notebooks: bool = True  # False for nbrun check: a failed run leaves the file as it was
    summary_md: Path | None = None


def execute_jobs(
    jobs: list[BatchJob], presentation: Presentation, options: BatchOptions, *, runner: Runner | None = None
) -> int:
    """Run the jobs, print per-notebook lines, the summary and reports; return the exit code.

    A *runner* (e.g. a DaskRunner) replaces local execution; if it is an async
    context manager it is entered around the batch.
    """
    return asyncio.run(_execute(jobs, presentation, options, runner))


def _stop(control: RunControl, reporter: CliBatchReporter, signal_name: str) -> None:
    """Stop on a signal, and say what happens (a second signal kills the kernels at once)."""
    first, was_forced = control.reason is None, control.forced
    control.request_stop(signal_name)
    if first:
        reporter.notice(f"nbrun: {signal_name}: stopping; running cells are interrupted (send it again to kill now)")
    elif not was_forced:
        reporter.notice(f"nbrun: {signal_name} again: killing the kernels")


async def _execute(
    jobs: list[BatchJob], presentation: Presentation, options: BatchOptions, runner: Runner | None = None
) -> int:
    control = RunControl()
    loop = asyncio.get_running_loop()
    reporter = CliBatchReporter(
        len(jobs),
        presentation,
        options.max_parallel,
        line_prefixes=log_labels(jobs, is_tty(sys.stderr)) if presentation.log_output else None,
    )
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, _stop, control, reporter, sig.name)
    started, clock = utc_now(), time.monotonic()
    if presentation.events is not None:
        presentation.events.run_started(len(jobs))
    try:
        async with contextlib.AsyncExitStack() as stack:
            if isinstance(runner, contextlib.AbstractAsyncContextManager):
                await stack.enter_async_context(runner)
            outcomes = await run_batch(jobs, options, control=control, observer=reporter, runner=runner)
    except NbrunError as exc:  # the runner could not start (e.g. the cluster is unreachable)
        reporter.close()
        if presentation.events is not None:
            presentation.events.close()
        click.echo(f"nbrun: error: {exc}", err=True)
        return exc.status.exit_code
    finally:
        reporter.close()
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    duration = time.monotonic() - clock
    code = _exit_code(outcomes, control)
    if len(outcomes) > 1:
        click.echo(summary_table(outcomes, duration), err=True)
    untracked = cache_on_declared_inputs_only(outcomes)
    if untracked:
        click.echo(untracked, err=True)
    if in_github_actions(presentation.github):
        for command in workflow_commands(outcomes):
            click.echo(command, err=True)
    code = _write_reports(outcomes, presentation, started, duration, code)
    if presentation.events is not None:
        presentation.events.run_finished(outcomes, code, duration)
        presentation.events.close()
    return code


def _exit_code(outcomes: list[BatchOutcome], control: RunControl) -> int:
    if control.stop_requested:
        return RunStatus.INTERRUPTED.exit_code_for(control.reason)  # 130, or 143 for SIGTERM and SIGHUP
    for outcome in outcomes:
        code = outcome_exit_code(outcome)
        if code != exit_codes.OK:
            return code
    return exit_codes.OK


def _write_reports(
    outcomes: list[BatchOutcome], presentation: Presentation, started: str, duration: float, code: int
) -> int:
    """Write every asked-for report that can be written; return *code*, or the first failure's code for an ok run.

    Each report that cannot be written is one line (a failed upload names the kept copy) and does not stop
    the others; a failed notebook's code comes first.
    """
    failures: list[int] = []
    if presentation.junit_xml is not None:
        junit = presentation.junit_xml
        _report(failures, lambda: write_junit(outcomes, junit, started, duration))
    record = (
        run_record(outcomes, started, duration, code) if presentation.json_report or presentation.report_page else {}
    )
    if presentation.json_report is not None:
        for notebook in record["notebooks"]:  # '<stdin>' / '<stdout>' rather than a removed temporary file
            for key in ("input", "output"):
                if notebook[key] is not None:
                    notebook[key] = presentation.display.get(Path(notebook[key]), notebook[key])
        destination = presentation.json_report
        _report(failures, lambda: write_json(record, destination))
    destinations = summary_destinations(in_github_actions(presentation.github), presentation.summary_md)
    if destinations:
        try:
            write_summary(summary_markdown(outcomes, duration), destinations)
        except OSError as exc:
            click.echo(f"nbrun: error: cannot write the run summary: {exc.filename or ''}: {exc.strerror}", err=True)
            failures.append(exit_codes.NOTEBOOK_INVALID_OR_IO)
    if presentation.report_page is not None:
        from .commands.report import write_page

        if not write_page(record, presentation.report_page):
            failures.append(exit_codes.NOTEBOOK_INVALID_OR_IO)
    return code or (failures[0] if failures else exit_codes.OK)


def _report(failures: list[int], write: Callable[[], None]) -> None:
    """Run one report writer; a failure is one line and its exit code appended to *failures*."""
    try:
        write()
    except NbrunError as exc:
        click.echo(f"nbrun: error: {exc}", err=True)
        failures.append(exc.status.exit_code)


class CliBatchReporter(BatchObserver):
    """An overall bar (several notebooks, TTY), per-notebook cell bars, one line per finished notebook."""

    def __init__(
        self,
        total: int,
        presentation: Presentation,
        max_parallel: int,
        stream: TextIO | None = None,
        line_prefixes: Mapping[Where, str] | None = None,
    ) -> None:
        self.presentation = presentation
        self.line_prefixes = line_prefixes or {}
        self._stream_files: dict[Where, StreamFiles] = {}
        self.stream = stream or sys.stderr
        self.bars = presentation.show_progress and is_tty(self.stream)
        self.failures = 0
        self._free_slots = list(range(1, max_parallel + 1)) if total > 1 else [0]
        self._slots: dict[Where, int] = {}
        self._cell_observers: dict[Where, TerminalObserver] = {}
        self._overall = None
        if self.bars and total > 1:
            from tqdm import tqdm

            self._overall = tqdm(total=total, desc="notebooks", unit="nb", file=self.stream, position=0)

    def job_started(self, job: BatchJob) -> ExecutionObserver:
        slot = self._free_slots.pop(0) if self._free_slots else 0
        self._slots[job.source] = slot
        observer = TerminalObserver(
            printable(job.source.name),
            show_progress=self.bars,
            log_output=self.presentation.log_output,
            stream=self.stream,
            position=slot,
            line_prefix=self.line_prefixes.get(job.target, ""),
        )
        self._cell_observers[job.source] = observer
        return self._with_extras(job, observer)

    def _with_extras(self, job: BatchJob, observer: ExecutionObserver) -> ExecutionObserver:
        """*observer* teed with --stdout-file/--stderr-file and --events, when asked for."""
        if any(self.presentation.stream_files.values()):
            files = self._stream_files[job.target] = StreamFiles(job, self.presentation.stream_files)
            observer = Tee(observer, files)
        if self.presentation.events is not None:
            observer = self.presentation.events.notebook_started(job, observer)
        return observer

    def job_finished(self, outcome: BatchOutcome) -> None:
        files = self._stream_files.pop(outcome.job.target, None)
        if files is not None:
            files.close()
        if self.presentation.events is not None:
            self.presentation.events.notebook_finished(outcome)
        observer = self._cell_observers.pop(outcome.job.source, None)
        if observer is not None:
            observer.close()
        if outcome.job.source in self._slots:
            self._free_slots.append(self._slots.pop(outcome.job.source))
            self._free_slots.sort()
        if not outcome.ok:
            self.failures += 1
        self._emit(
            _finished_lines(
                _displayed(outcome, self.presentation.display),
                self.presentation.verbose,
                is_tty(self.stream),
                self.presentation.writes_notebooks,
            )
        )
        if self._overall is not None:
            self._overall.set_postfix_str(f"{self.failures} failed", refresh=False)
            self._overall.update(1)

    def close(self) -> None:
        for observer in self._cell_observers.values():
            observer.close()
        if self._overall is not None:
            self._overall.close()

    def notice(self, text: str) -> None:
        """A line on stderr, above the bars when they are shown."""
        self._emit(text)

    def _emit(self, text: str) -> None:
        if not text:
            return
        text = printable(text)  # a name's undecodable bytes as \xNN
        if self.bars:
            from tqdm import tqdm

            tqdm.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()


def _displayed(outcome: BatchOutcome, names: Mapping[Path, str]) -> BatchOutcome:
    """The outcome with stdin/stdout stand-in paths shown by their names (``<stdin>``, ``<stdout>``)."""
    if not names:
        return outcome
    job = outcome.job
    source = names.get(job.source, str(job.source)) if isinstance(job.source, Path) else job.source
    target = names.get(job.target, str(job.target)) if isinstance(job.target, Path) else job.target
    shown = replace(
        job,
        source=Path(source) if isinstance(source, str) else source,
        target=Path(target) if isinstance(target, str) else target,
    )
    return replace(outcome, job=shown)


def _finished_lines(outcome: BatchOutcome, verbose: int, colour: bool, writes: bool = True) -> str:
    job, result = outcome.job, outcome.result
    lines: list[str] = []
    if outcome.error is not None:
        error = outcome.error
        ran = f"; {error.after_run}" if error.after_run else ""  # it failed after the run: say how the run went
        lines.append(f"nbrun: error: {about(job.source, error)}{ran}")
    elif result is None:
        lines.append(f"nbrun: {job.source}: {outcome.skipped_reason}")
    else:
        if verbose and result.kernel_output.strip():
            lines += [f"nbrun: kernel output for {job.source}:", _indent(result.kernel_output)]
        where = "" if job.target == job.source else f" -> {job.target}"
        cached = " (cached)" if result.cached else ""  # replayed from the execution cache
        use = result.cache_use
        rerun = f"; re-run: {use.rerun}" if use is not None and use.rerun else ""  # why the stored run did not replay
        if result.check is not None:  # nbrun check
            from .output.check_verdicts import check_lines

            lines.append(check_lines(job.source, result.check))
        elif result.status is RunStatus.OK:
            executed = sum(1 for cell in result.cells if cell.duration is not None)
            raised = len(raised_cells(result))  # --allow-errors successes say what raised
            note = f", {raised} raised (--allow-errors)" if raised else ""
            lines.append(
                f"nbrun: ok{cached} {job.source}{where} ({executed} cell{'s' if executed != 1 else ''}{note}, {outcome.timed or 0:.2f} s{rerun})"
            )
        else:
            hint = stdin_hint(result)
            message = f"{result.message}; {hint}" if hint else result.message
            kept = f"notebook written to {job.target}" if writes else "the notebook was not changed"
            lines.append(f"nbrun: FAILED{cached} {job.source}: {message} ({kept}{rerun})")
            traceback = failing_traceback(outcome) if result.status is RunStatus.ERROR else ""
            traceback = traceback if colour else strip_ansi(traceback)
            if traceback:
                lines.append(_indent(traceback))
        truncated = truncation_warning(result)
        if truncated:
            lines.append(f"nbrun: warning: {job.source}: {truncated}")
        if result.redactions:  # how many, never where
            lines.append(f"nbrun: {job.source}: {redactions_said(result.redactions)}")
        lines += [f"nbrun: warning: {warning}" for warning in result.image_warnings]
        count = len(result.extracted_files)
        if count or result.image_warnings:
            lines.append(
                f"nbrun: wrote {count} image{'s' if count != 1 else ''} for {job.source} to {job.file_options.extract_images}"
            )
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())
