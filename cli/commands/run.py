"""The ``nbrun`` command line (click). Owns argv, printing and exit codes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from .. import exit_codes
from ..errors import CliError, NbrunGroup
from ..inputs.execution_flags import SECONDS, execute_options, execution_flags, parameters_of
from ..inputs.locations import WHERE, check_json_destination, check_text_support, discover_or_fail
from ..output.log_setup import configure_logging
from .cache import cache_run_options

if TYPE_CHECKING:
    from nbrun.cache import CacheSettings
    from nbrun.runners.dask import DaskRunner
    from nbrun.storage.locations import Where

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Jobs(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2; 8.1 is supported too
    """A positive integer, or ``auto`` for the number of CPUs."""

    name = "N|auto"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        if str(value).lower() == "auto":
            return os.cpu_count() or 1
        try:
            jobs = int(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a number of jobs (or 'auto')", param, ctx)
        if jobs < 1:
            self.fail("needs at least 1 job", param, ctx)
        return jobs


@click.group(cls=NbrunGroup, context_settings=CONTEXT)
@click.version_option(package_name="jupyter-nbrun", prog_name="nbrun")
def main() -> None:
    """Run Jupyter notebooks headlessly: faithful outputs, loud failures, CI-ready."""


@main.command(
    "run",
    epilog=exit_codes.HELP_TEXT,
    context_settings=CONTEXT,
    short_help="Execute notebooks and write them back (or to -o / --output-dir).",
)
@click.argument("notebooks", nargs=-1, required=True, type=WHERE)
@click.option(
    "-j",
    "--jobs",
    type=_Jobs(),
    metavar="N|auto",
    default=1,
    show_default=True,
    help="Run up to N notebooks at once, each in its own kernel ('auto': one per CPU).",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="PATTERN",
    help="Skip notebooks whose path or a folder name matches PATTERN (repeatable).",
)
@click.option("--fail-fast", is_flag=True, help="After a failure, start no further notebooks (running ones finish).")
@click.option("--junit-xml", type=WHERE, metavar="FILE", help="Write a JUnit XML report (one testcase per notebook).")
@click.option("--json", "json_report", metavar="FILE", help="Write the JSON run record to FILE ('-': stdout).")
@click.option(
    "--report",
    "report_page",
    type=WHERE,
    metavar="FILE",
    help="Write one static HTML page for the whole run (rendered from the JSON run record).",
)
@click.option(
    "--html",
    "write_html",
    is_flag=True,
    help="Also write each executed notebook as HTML beside it, failed runs too (needs the html extra).",
)
@click.option(
    "--html-allow-scripts",
    is_flag=True,
    help="Let the --html pages run the scripts in their outputs (widgets, interactive plots); by default their Content-Security-Policy blocks every script.",
)
@click.option(
    "--report-mode",
    is_flag=True,
    help="Hide code inputs (metadata.jupyter.source_hidden) in the written notebook and its HTML.",
)
@click.option(
    "--events", "events_path", metavar="FILE", help="Stream events as JSON Lines to FILE ('-': stdout) as they happen."
)
@click.option(
    "-o",
    "--output",
    type=WHERE,
    metavar="FILE",
    help="Write the executed notebook to FILE (one input only; '-': stdout; may hold {parameter} fields).  [default: in place]",
)
@click.option(
    "--output-dir", type=WHERE, metavar="DIR", help="Write executed notebooks into DIR, mirroring the inputs' folders."
)
@click.option(
    "--autosave",
    "autosave_seconds",
    type=SECONDS,
    help="Rewrite the output notebook every SECONDS during the run.  [default: only at the end]",
)
@click.option("--extract-images", type=WHERE, metavar="DIR", help="Write image outputs to DIR as PNG/SVG files.")
@click.option(
    "--strip-images",
    is_flag=True,
    help="With --extract-images: drop the base64 images from the notebook, keep file references.",
)
@click.option(
    "--strict-images", is_flag=True, help="A broken image payload makes the run fail (exit 5) instead of only warning."
)
@click.option(
    "--force", is_flag=True, help="Overwrite files in the images folder that nbrun did not write for this notebook."
)
@click.option(
    "--prestart",
    type=click.IntRange(min=0),
    metavar="N",
    help="With -j N: kernels booted ahead while notebooks run (default N, so up to 2N kernels are alive).",
)
@click.option(
    "--no-fast-start", is_flag=True, help="Launch every kernel normally instead of forking it from a warm template."
)
@click.option(
    "--preload",
    metavar="MODULES",
    default="",
    help="Comma-separated modules the warm template imports (e.g. numpy,pandas).",
)
@click.option(
    "--params-grid",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="YAML list of parameter mappings: run the notebook once per mapping.",
)
@click.option(
    "--prepare-only",
    is_flag=True,
    help="Write the notebooks with their parameters injected, without running them (papermill's flag).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar (it is also off when stderr is not a terminal).")
@click.option(
    "--log-output",
    is_flag=True,
    help="Stream cell stdout/stderr live to stderr (each line prefixed with its notebook's name when several run).",
)
@click.option(
    "--stdout-file",
    metavar="FILE",
    help="Write the cells' stdout to FILE ({name}/{stem}: the notebook's, for several).",
)
@click.option(
    "--stderr-file",
    metavar="FILE",
    help="Write the cells' stderr to FILE ({name}/{stem}: the notebook's, for several).",
)
@click.option("-v", "--verbose", count=True, help="Show kernel output and more detail (repeatable: -vv for debug).")
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS|local:N",
    help="Run each notebook as a task on a Dask cluster: a scheduler address (tcp://host:8786) or local:N worker processes.",
)
@click.option(
    "--include-text",
    is_flag=True,
    help="Folders and globs also yield jupytext text notebooks (.py percent scripts, MyST .md).",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    metavar="N",
    default=1,
    show_default=True,
    help="With --dask: re-run a notebook whose kernel could not start or whose worker was lost.",
)
@execution_flags
@cache_run_options
def run_command(
    notebooks: tuple[Where, ...],
    jobs: int,
    exclude: tuple[str, ...],
    fail_fast: bool,
    junit_xml: Where | None,
    json_report: str | None,
    report_page: Where | None,
    write_html: bool,
    html_allow_scripts: bool,
    report_mode: bool,
    events_path: str | None,
    output: Where | None,
    output_dir: Where | None,
    autosave_seconds: float | None,
    extract_images: Where | None,
    strip_images: bool,
    strict_images: bool,
    force: bool,
    prestart: int | None,
    no_fast_start: bool,
    preload: str,
    params_grid: Path | None,
    prepare_only: bool,
    no_progress: bool,
    log_output: bool,
    stdout_file: str | None,
    stderr_file: str | None,
    verbose: int,
    dask_address: str | None,
    retries: int,
    cache: CacheSettings | None,
    include_text: bool,
    **execution: Any,
) -> None:
    """Execute NOTEBOOKS and write them back (in place unless -o/--output-dir).

    NOTEBOOKS are files, folders (searched recursively for *.ipynb, skipping
    hidden folders and .ipynb_checkpoints) or glob patterns. Each notebook
    gets a fresh kernel, started in the notebook's folder. The executed
    notebook is written even when a cell fails, with the failure recorded in
    metadata.nbrun.
    """
    from ..inputs.discover import mirror_root
    from ..inputs.paths_check import check_inputs
    from ..inputs.stdio import redirect_stdio

    if output is not None and output_dir is not None:
        raise click.UsageError("use either -o/--output or --output-dir, not both")
    if strip_images and extract_images is None:
        raise click.UsageError("--strip-images needs --extract-images DIR")
    if html_allow_scripts and not write_html:
        raise click.UsageError("--html-allow-scripts needs --html")
    if write_html:
        from .report import require_html_extra

        require_html_extra()
    paths = discover_or_fail(notebooks, exclude, include_text=include_text)  # a URL glob may fail to list
    check_inputs(notebooks, paths)  # nothing runs when a path is wrong
    check_text_support(paths)
    check_json_destination(json_report)
    if not paths:
        raise click.UsageError("no notebooks left to run after --exclude")
    if output is not None and len(paths) > 1:
        raise click.UsageError("-o/--output takes one notebook; use --output-dir for several")
    if events_path == "-" and (json_report == "-" or output == Path("-")):
        raise click.UsageError("--events - shares stdout with -o - or --json -; send one of them to a file")
    stdio = redirect_stdio(
        paths, output, json_to_stdout=json_report == "-", output_dir=output_dir
    )  # "-" is stdin/stdout
    paths, output = stdio.paths, stdio.output
    # a notebook on stdin has no folder of its own (papermill: the current folder)
    default_cwd = Path.cwd() if stdio.reads_stdin else None
    from ..inputs.params import load_grid

    parameters = parameters_of(execution)
    grid = load_grid(params_grid) if params_grid is not None else None
    if grid is not None and (len(paths) != 1 or output is None):
        raise click.UsageError(
            "--params-grid runs one notebook and needs -o with a template such as 'out/{region}.ipynb'"
        )
    preload_modules = tuple(name.strip() for name in preload.split(",") if name.strip())
    runner = _dask_runner(dask_address, retries, fail_fast)
    if runner is not None and click.get_current_context().get_parameter_source("jobs") is ParameterSource.DEFAULT:
        jobs = len(paths) if grid is None else len(grid)  # the cluster schedules; submit everything
    from nbrun.kernel import fork as fast_start
    from nbrun.kernel.peek import any_forkable

    # only for ipykernel notebooks; with a cache, the template starts at the first miss
    if (
        not no_fast_start
        and runner is None
        and cache is None
        and not prepare_only
        and any_forkable(paths, execution["kernel_name"])
    ):
        fast_start.prelaunch(preload_modules)  # the template boots while the rest of nbrun is imported
    try:
        from nbrun.options import BatchOptions, FileOptions

        from ..batch import Presentation, execute_jobs, grid_jobs, make_jobs, plan_batch
        from ..inputs.params import render_output
        from ..output.event_stream import EventStream
        from ..output.log_lines import check_stream_files

        configure_logging(verbose)
        options = execute_options(execution, parameters=parameters, cwd=default_cwd)
        file_options = FileOptions(
            autosave_seconds=autosave_seconds,
            extract_images=extract_images,
            strip_images=strip_images,
            strict_images=strict_images,
            overwrite_images=force,
            report_mode=report_mode,
            write_html=write_html,
            html_allow_scripts=html_allow_scripts,
            cache=cache,
        )
        batch_options = BatchOptions(
            max_parallel=jobs,
            fail_fast=fail_fast,
            fast_start=not no_fast_start,
            preload=preload_modules,
            prestart=prestart,
        )
        presentation = Presentation(
            show_progress=not no_progress,
            log_output=log_output,
            verbose=verbose,
            junit_xml=junit_xml,
            json_report=json_report,
            display=stdio.display,
            report_page=report_page,
            events=EventStream(events_path) if events_path else None,
            stream_files={"stdout": stdout_file, "stderr": stderr_file},
        )
        if grid is not None:
            assert output is not None  # checked with --params-grid above
            batch = grid_jobs(paths[0], output, options, file_options, grid)
        else:
            if output is not None and "{" in str(output):
                output = render_output(output, parameters or {})
            batch = make_jobs(
                plan_batch(paths, output=output, output_dir=output_dir, root=mirror_root(notebooks)),
                options,
                file_options,
            )
        check_stream_files(stdout_file, stderr_file, len(batch))
        if prepare_only:  # papermill's --prepare-only
            from .prepare_only import prepare_jobs

            code = prepare_jobs(batch)
        else:
            code = execute_jobs(batch, presentation, batch_options, runner=runner)
    finally:
        fast_start.discard_prelaunched()
        stdio.finish()
    if code != exit_codes.OK:
        raise click.exceptions.Exit(code)


@main.command("inspect", context_settings=CONTEXT, short_help="List the parameters a notebook declares.")
@click.argument("notebook", type=WHERE)
def inspect_command(notebook: Where) -> None:
    """List the parameters a NOTEBOOK declares in its cell tagged 'parameters'."""
    from nbrun.errors import NbrunError
    from nbrun.notebook.files import read_from
    from nbrun.notebook.parameters import declared_parameters

    try:
        declared = declared_parameters(read_from(notebook))  # a path or URL, .ipynb or text
    except NbrunError as exc:
        raise CliError(str(exc), exc.status.exit_code) from None
    if not declared:
        click.echo(f"{notebook}: no cell tagged 'parameters'", err=True)
        return
    click.echo(f"Parameters of {notebook}:")
    width = max(len(p.name) for p in declared)
    for parameter in declared:
        kind = parameter.annotation or parameter.inferred_type
        note = f"  # {parameter.comment}" if parameter.comment else ""
        click.echo(f"  {parameter.name.ljust(width)}  {kind:<10}  default {parameter.default}{note}")


from .report import report_command  # noqa: E402 - `nbrun report`

main.add_command(report_command)


def _dask_runner(address: str | None, retries: int, fail_fast: bool) -> DaskRunner | None:
    """The --dask runner; exit 2 with one line when the extra is missing."""
    if address is None:
        if click.get_current_context().get_parameter_source("retries") is not ParameterSource.DEFAULT:
            raise click.UsageError("--retries needs --dask")
        return None
    if click.get_current_context().params.get("autosave_seconds") is not None:
        raise click.UsageError("--autosave does not work with --dask (the notebook is on the worker until it ends)")
    from nbrun.errors import MissingExtraError
    from nbrun.runners.dask import DaskRunner

    try:
        return DaskRunner(address, retries=retries, fail_fast=fail_fast)
    except MissingExtraError as exc:
        raise CliError(str(exc), exc.status.exit_code) from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--dask") from None
