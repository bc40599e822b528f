"""Planning which notebook goes where, and running them with signal handling."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from nbrun.api import async_run_path
from nbrun.control import RunControl
from nbrun.errors import NbrunError
from nbrun.options import ExecuteOptions
from nbrun.result import ExecutionResult, RunStatus

from . import exit_codes
from .reporting import TerminalObserver

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


@dataclass(frozen=True)
class BatchItem:
    source: Path
    target: Path
    relative_folder: Path = Path()  # the input's folder relative to the batch's common folder


@dataclass(frozen=True)
class BatchPlan:
    items: tuple[BatchItem, ...]


def plan_batch(notebooks: tuple[Path, ...], *, output: Path | None, output_dir: Path | None) -> BatchPlan:
    """Pair each input with its output path (in place by default)."""
    if output is not None:
        return BatchPlan((BatchItem(notebooks[0], output),))
    base = _common_folder(notebooks)
    items = []
    for path in notebooks:
        try:
            relative = path.resolve().relative_to(base)
        except ValueError:
            relative = Path(path.name)
        target = path if output_dir is None else output_dir / relative
        items.append(BatchItem(path, target, relative.parent))
    return BatchPlan(tuple(items))


def _common_folder(paths: tuple[Path, ...]) -> Path:
    folders = [str(path.resolve().parent) for path in paths]
    return Path(os.path.commonpath(folders)) if folders else Path.cwd()


def run_batch(plan: BatchPlan, options: ExecuteOptions, *, show_progress: bool, log_output: bool, verbose: int) -> int:
    """Run every item one after another; return the process exit code."""
    return asyncio.run(_run_all(plan, options, show_progress=show_progress, log_output=log_output, verbose=verbose))


async def _run_all(plan: BatchPlan, options: ExecuteOptions, *, show_progress: bool, log_output: bool, verbose: int) -> int:
    control = RunControl()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, control.request_stop, sig.name)
    codes: list[int] = []
    try:
        for item in plan.items:
            if control.stop_requested:
                click.echo(f"nbrun: {item.source}: not run (interrupted)", err=True)
                continue
            codes.append(await _run_one(item, options, control, show_progress, log_output, verbose))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if control.stop_requested:
        return exit_codes.SIGTERM if control.reason == "SIGTERM" else exit_codes.SIGINT
    return next((code for code in codes if code != exit_codes.OK), exit_codes.OK)


async def _run_one(
    item: BatchItem, options: ExecuteOptions, control: RunControl, show_progress: bool, log_output: bool, verbose: int
) -> int:
    observer = TerminalObserver(item.source.name, show_progress=show_progress, log_output=log_output)
    if options.extract_images is not None:
        options = options.with_changes(extract_images=options.extract_images / item.relative_folder)
    try:
        result = await async_run_path(item.source, item.target, options, observer=observer, control=control)
    except NbrunError as exc:
        observer.close()
        click.echo(f"nbrun: error: {exc}", err=True)
        return exit_codes.for_error(exc)
    observer.close()
    _report(item, result, verbose)
    code = exit_codes.for_status(result.status, result.interrupted_by)
    if options.extract_images is not None:
        code = _report_images(item, result, options) or code
    return code


def _report_images(item: BatchItem, result: ExecutionResult, options: ExecuteOptions) -> int:
    """Print image warnings and the summary line; return 5 for --strict-images failures."""
    for warning in result.image_warnings:
        click.echo(f"nbrun: warning: {warning}", err=True)
    count = len(result.extracted_files)
    if count or result.image_warnings:
        click.echo(
            f"nbrun: wrote {count} image{'s' if count != 1 else ''} for {item.source} to {options.extract_images}", err=True
        )
    if options.strict_images and result.broken_images:
        click.echo(f"nbrun: error: {item.source}: {result.broken_images} broken image payload(s) (--strict-images)", err=True)
        return exit_codes.NOTEBOOK_INVALID_OR_IO
    return exit_codes.OK


def _report(item: BatchItem, result: ExecutionResult, verbose: int) -> None:
    where = "" if item.target == item.source else f" -> {item.target}"
    executed = sum(1 for cell in result.cells if cell.duration is not None)
    if verbose and result.kernel_output.strip():
        click.echo(f"nbrun: kernel output for {item.source}:", err=True)
        click.echo(_indent(result.kernel_output), err=True)
    if result.status is RunStatus.OK:
        click.echo(f"nbrun: ok {item.source}{where} ({executed} cell{'s' if executed != 1 else ''}, {result.duration:.2f} s)", err=True)
        return
    click.echo(f"nbrun: FAILED {item.source}: {result.message} (notebook written to {item.target})", err=True)
    traceback = _failing_traceback(result)
    if traceback:
        click.echo(_indent(traceback), err=True)


def _failing_traceback(result: ExecutionResult) -> str:
    if result.failed_cell is None or result.status is not RunStatus.ERROR:
        return ""
    cell = result.notebook.cells[result.failed_cell]
    for output in reversed(cell.get("outputs", [])):
        if output.get("output_type") == "error":
            text = "\n".join(output.get("traceback", []))
            return text if sys.stderr.isatty() else _ANSI.sub("", text)
    return ""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())
