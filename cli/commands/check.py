"""``nbrun check``: run notebooks and compare their new outputs with the stored ones.

It takes ``nbrun run``'s discovery, parallelism, kernel, timeout, parameter
and report options unchanged (the same click options, shared by name) plus
its own; the notebooks on disk are only rewritten with ``--update``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from .. import exit_codes
from ..errors import CliError
from ..inputs.execution_flags import FLAG_NAMES, execute_options, parameters_of

# run's options that check takes as they are, besides every execution flag (inputs/execution_flags.py)
SHARED_WITH_RUN = (
    "jobs",
    "exclude",
    "fail_fast",
    "junit_xml",
    "json_report",
    "report_page",
    "events_path",
    *FLAG_NAMES,
    "no_fast_start",
    "preload",
    "no_progress",
    "log_output",
    "verbose",
)
SANITIZER_CHOICES = ("addresses", "kernel-paths", "all")


@click.command(
    "check",
    epilog=exit_codes.HELP_TEXT,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    short_help="Run notebooks and compare their outputs with the stored ones.",
)
@click.argument("notebooks", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--update",
    is_flag=True,
    help="Write the new outputs into the notebooks that differ (only those cells; never after a failed run).",
)
@click.option(
    "--lax", is_flag=True, help="Compare only cells marked NBVAL_CHECK_OUTPUT / nbval-check-output (errors still fail)."
)
@click.option(
    "--require-outputs",
    is_flag=True,
    help="A notebook saved without any outputs is a mismatch (exit 6).  [default: it passes, nothing stored to compare]",
)
@click.option(
    "--sanitize-with",
    "sanitize_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="nbval sanitizer file (regex:/replace: lines) applied to both sides (repeatable).",
)
@click.option(
    "--no-sanitize",
    "no_sanitize",
    multiple=True,
    type=click.Choice(SANITIZER_CHOICES),
    help="Turn a built-in sanitizer off: addresses (0x7f...), kernel-paths (/tmp/ipykernel_N/M.py), all (repeatable).",
)
@click.option(
    "--compare-images",
    is_flag=True,
    help="Compare raster images by decoded pixels (default: only their number and type).",
)
@click.option(
    "--image-tolerance",
    type=click.IntRange(0, 255),
    default=0,
    show_default=True,
    help="With --compare-images: largest per-channel difference (0-255) of a pixel still counted as equal.",
)
def check_command(
    notebooks: tuple[Path, ...],
    update: bool,
    lax: bool,
    require_outputs: bool,
    sanitize_files: tuple[Path, ...],
    no_sanitize: tuple[str, ...],
    compare_images: bool,
    image_tolerance: int,
    **shared: Any,
) -> None:
    """Run NOTEBOOKS and compare each code cell's new outputs with the stored ones.

    nbval's comment markers, cell tags and sanitizer files are honoured. The
    files are not changed unless --update. A notebook whose outputs differ is
    reported on stderr with a unified diff (pixel counts for images); exit 6.
    """
    from nbrun.check.model import BUILTIN_SANITIZERS, CheckOptions
    from nbrun.check.sanitize import read_sanitizer_file
    from nbrun.errors import SanitizerFileError

    if image_tolerance and not compare_images:
        raise click.UsageError("--image-tolerance needs --compare-images")
    try:
        patterns = tuple(pair for path in sanitize_files for pair in read_sanitizer_file(path))
    except SanitizerFileError as exc:
        raise CliError(str(exc), exc.status.exit_code) from None
    off = set(BUILTIN_SANITIZERS) if "all" in no_sanitize else set(no_sanitize)
    check = CheckOptions(
        lax=lax,
        require_outputs=require_outputs,
        compare_images=compare_images,
        image_tolerance=image_tolerance,
        sanitizers=tuple(name for name in BUILTIN_SANITIZERS if name not in off),
        patterns=patterns,
    )
    code = _run_checks(notebooks, check, update, shared)
    if code != exit_codes.OK:
        raise click.exceptions.Exit(code)


def _run_checks(notebooks: tuple[Path, ...], check: Any, update: bool, shared: dict[str, Any]) -> int:
    from nbrun.kernel import fork as fast_start

    from ..inputs.discover import discover

    paths = discover(notebooks, shared["exclude"])
    if not paths:
        raise click.UsageError("no notebooks left to check after --exclude")
    parameters = parameters_of(shared)
    preload = tuple(name.strip() for name in shared["preload"].split(",") if name.strip())
    if not shared["no_fast_start"]:
        fast_start.prelaunch(preload)
    try:
        from nbrun.check.run import CheckRunner
        from nbrun.options import BatchOptions, FileOptions

        from ..batch import Presentation, execute_jobs
        from ..inputs.plan import make_jobs, plan_batch
        from ..output.event_stream import EventStream
        from ..output.github import mask_commands
        from ..output.log_setup import configure_logging

        configure_logging(shared["verbose"])
        options = execute_options(shared, parameters=parameters)
        for command in mask_commands(options.secrets):  # before anything else is printed
            click.echo(command, err=True)
        batch_options = BatchOptions(
            max_parallel=shared["jobs"] or os.cpu_count() or 1,  # 0: -j auto
            fail_fast=shared["fail_fast"],
            fast_start=not shared["no_fast_start"],
            preload=preload,
        )
        presentation = Presentation(
            show_progress=not shared["no_progress"],
            log_output=shared["log_output"],
            verbose=shared["verbose"],
            junit_xml=shared["junit_xml"],
            json_report=shared["json_report"],
            report_page=shared["report_page"],
            events=EventStream(shared["events_path"]) if shared["events_path"] else None,
            writes_notebooks=False,
        )
        runner = CheckRunner(check, update=update, fast_start=batch_options.fast_start, preload=preload)
        jobs = make_jobs(plan_batch(paths, output=None, output_dir=None), options, FileOptions())
        return execute_jobs(jobs, presentation, batch_options, runner=runner)
    finally:
        fast_start.discard_prelaunched()


def register(group: click.Group, run_command: click.Command) -> None:
    """Add ``nbrun check`` to *group*, with *run_command*'s options listed in SHARED_WITH_RUN."""
    shared = {param.name: param for param in run_command.params}
    present = {param.name for param in check_command.params}
    check_command.params.extend(shared[name] for name in SHARED_WITH_RUN if name not in present)
    group.add_command(check_command)
