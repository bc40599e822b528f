"""The ``nbrun`` command line (click). Owns argv, printing and exit codes."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from nbrun.options import DEFAULT_MAX_OUTPUT_BYTES, ExecuteOptions

from . import exit_codes

if TYPE_CHECKING:
    from nbrun.dask_backend import DaskRunner

class CliError(click.ClickException):
    """An error the command reports in one line; the subclass's ``exit_code`` is the process's (click's pattern)."""

    @classmethod
    def with_code(cls, message: str, exit_code: int) -> CliError:
        """An instance of the subclass whose ``exit_code`` is *exit_code*."""
        return type(f"CliError{exit_code}", (cls,), {"exit_code": exit_code})(message)

    def show(self, file: object = None) -> None:
        click.echo(f"nbrun: error: {self.format_message()}", err=True)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


SECONDS = click.FloatRange(min=0, min_open=True)  # a positive number of seconds


class _Jobs(click.ParamType):
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


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="nbrun", prog_name="nbrun")
def main() -> None:
    """Run Jupyter notebooks headlessly: faithful outputs, loud failures, CI-ready."""


@main.command("run", epilog=exit_codes.HELP_TEXT, context_settings=CONTEXT)
@click.argument("notebooks", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-j", "--jobs", type=_Jobs(), default=1, show_default=True, help="Run up to N notebooks at once, each in its own kernel ('auto': one per CPU).")
@click.option("--exclude", multiple=True, metavar="PATTERN", help="Skip notebooks whose path or a folder name matches PATTERN (repeatable).")
@click.option("--fail-fast", is_flag=True, help="After a failure, start no further notebooks (running ones finish).")
@click.option("--junit-xml", type=click.Path(path_type=Path, dir_okay=False), help="Write a JUnit XML report (one testcase per notebook).")
@click.option("--json", "json_report", metavar="FILE", help="Write the JSON run record to FILE ('-' for stdout).")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the executed notebook here (one input only).")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), help="Write executed notebooks into DIR.")
@click.option("-k", "--kernel", "kernel_name", help="Kernel to use (default: the notebook's, else python3).")
@click.option("--cwd", type=click.Path(path_type=Path, file_okay=False, exists=True), help="Kernel working directory (default: the notebook's folder).")
@click.option("--timeout", type=SECONDS, help="Per-cell wall-clock limit; on expiry the cell is interrupted.")
@click.option("--notebook-timeout", type=SECONDS, help="Wall-clock limit for each whole notebook.")
@click.option("--startup-timeout", type=SECONDS, default=ExecuteOptions.startup_timeout, show_default=True, help="Limit for the kernel to start.")
@click.option("--interrupt-grace", type=SECONDS, default=ExecuteOptions.interrupt_grace, show_default=True, help="After an interrupt, wait this long before killing the kernel.")
@click.option("--allow-errors", is_flag=True, help="Run every cell even when some raise; errors are recorded, exit 0.")
@click.option("--restart-on-death", is_flag=True, help="If the kernel dies, start a fresh one and go on with the next cell.")
@click.option("--max-output-bytes", type=click.IntRange(min=1), default=DEFAULT_MAX_OUTPUT_BYTES, show_default=True, help="Outputs kept per cell; the rest is dropped with a visible marker.")
@click.option("--autosave", "autosave_seconds", type=SECONDS, help="Rewrite the output notebook every SECONDS during the run.")
@click.option("--stdin-file", type=click.File("r", encoding="utf-8"), help="Answer input() calls with this file's lines, in order.")
@click.option("--extract-images", type=click.Path(path_type=Path, file_okay=False), help="Write image outputs to DIR as PNG/SVG files.")
@click.option("--strip-images", is_flag=True, help="With --extract-images: drop the base64 images from the notebook, keep file references.")
@click.option("--strict-images", is_flag=True, help="A broken image payload makes the run fail (exit 5) instead of only warning.")
@click.option("--force", is_flag=True, help="Overwrite files in the images folder that nbrun did not write for this notebook.")
@click.option("--no-fast-start", is_flag=True, help="Launch every kernel normally instead of forking it from a warm template.")
@click.option("--preload", metavar="MODULES", default="", help="Comma-separated modules the warm template imports (e.g. numpy,pandas).")
@click.option("-p", "--parameter", "typed_params", nargs=2, multiple=True, metavar="NAME VALUE", help="Parameter; VALUE read as int, float, bool, None, else string.")
@click.option("-r", "--raw-parameter", "raw_params", nargs=2, multiple=True, metavar="NAME VALUE", help="Parameter whose VALUE stays a string.")
@click.option("-y", "--parameters-yaml", "yaml_params", multiple=True, metavar="YAML", help="Parameters as a YAML mapping string.")
@click.option("-f", "--parameters-file", "file_params", multiple=True, type=click.Path(path_type=Path, dir_okay=False), help="Parameters from a YAML or JSON file.")
@click.option("--params-grid", type=click.Path(path_type=Path, dir_okay=False), help="YAML list of parameter mappings: run the notebook once per mapping.")
@click.option("--strict-params", is_flag=True, help="A parameter the notebook's parameters cell does not declare is an error (exit 2).")
@click.option("--no-progress", is_flag=True, help="No progress bar (it is also off when stderr is not a terminal).")
@click.option("--log-output", is_flag=True, help="Stream cell stdout/stderr live to stderr.")
@click.option("-v", "--verbose", count=True, help="Show kernel output and more detail (-vv: debug).")
@click.option("--dask", "dask_address", metavar="ADDRESS|local:N", help="Run each notebook as a task on a Dask cluster: a scheduler address (tcp://host:8786) or local:N worker processes.")
@click.option("--retries", type=click.IntRange(min=0), default=1, show_default=True, help="With --dask: re-run a notebook whose kernel could not start or whose worker was lost.")
def run_command(
    notebooks: tuple[Path, ...],
    jobs: int,
    exclude: tuple[str, ...],
    fail_fast: bool,
    junit_xml: Path | None,
    json_report: str | None,
    output: Path | None,
    output_dir: Path | None,
    kernel_name: str | None,
    cwd: Path | None,
    timeout: float | None,
    notebook_timeout: float | None,
    startup_timeout: float,
    interrupt_grace: float,
    allow_errors: bool,
    restart_on_death: bool,
    max_output_bytes: int,
    autosave_seconds: float | None,
    stdin_file: object,
    extract_images: Path | None,
    strip_images: bool,
    strict_images: bool,
    force: bool,
    no_fast_start: bool,
    preload: str,
    typed_params: tuple[tuple[str, str], ...],
    raw_params: tuple[tuple[str, str], ...],
    yaml_params: tuple[str, ...],
    file_params: tuple[Path, ...],
    params_grid: Path | None,
    strict_params: bool,
    no_progress: bool,
    log_output: bool,
    verbose: int,
    dask_address: str | None,
    retries: int,
) -> None:
    """Execute NOTEBOOKS and write them back (in place unless -o/--output-dir).

    NOTEBOOKS are files, folders (searched recursively for *.ipynb, skipping
    hidden folders and .ipynb_checkpoints) or glob patterns. Each notebook
    gets a fresh kernel, started in the notebook's folder. The executed
    notebook is written even when a cell fails, with the failure recorded in
    metadata.nbrun.
    """
    from .discover import discover

    if output is not None and output_dir is not None:
        raise click.UsageError("use either -o/--output or --output-dir, not both")
    if strip_images and extract_images is None:
        raise click.UsageError("--strip-images needs --extract-images DIR")
    paths = discover(notebooks, exclude)
    if not paths:
        raise click.UsageError("no notebooks left to run after --exclude")
    if output is not None and len(paths) > 1:
        raise click.UsageError("-o/--output takes one notebook; use --output-dir for several")
    from .params import collect_parameters, load_grid

    parameters = collect_parameters(file_params, yaml_params, typed_params, raw_params)
    grid = load_grid(params_grid) if params_grid is not None else None
    if grid is not None and (len(paths) != 1 or output is None):
        raise click.UsageError("--params-grid runs one notebook and needs -o with a template such as 'out/{region}.ipynb'")
    preload_modules = tuple(name.strip() for name in preload.split(",") if name.strip())
    runner = _dask_runner(dask_address, retries, fail_fast)
    if runner is not None and click.get_current_context().get_parameter_source("jobs") is ParameterSource.DEFAULT:
        jobs = len(paths) if grid is None else len(grid)  # the cluster schedules; submit everything
    from nbrun import fast_start

    if not no_fast_start and runner is None:
        fast_start.prelaunch(preload_modules)  # the template boots while the rest of nbrun is imported
    try:
        from nbrun.options import BatchOptions, FileOptions

        from .batch import Presentation, execute_jobs, grid_jobs, make_jobs, plan_batch
        from .params import render_output

        _configure_logging(verbose)
        stdin_lines = None
        if stdin_file is not None:
            stdin_lines = tuple(line.rstrip("\r\n") for line in stdin_file)  # type: ignore[attr-defined]
        options = ExecuteOptions(
            kernel_name=kernel_name,
            cwd=cwd.resolve() if cwd else None,
            timeout=timeout,
            notebook_timeout=notebook_timeout,
            startup_timeout=startup_timeout,
            interrupt_grace=interrupt_grace,
            allow_errors=allow_errors,
            restart_on_death=restart_on_death,
            max_output_bytes=max_output_bytes,
            stdin_lines=stdin_lines,
            parameters=parameters,
            strict_parameters=strict_params,
        )
        file_options = FileOptions(autosave_seconds=autosave_seconds, extract_images=extract_images,
                                   strip_images=strip_images, strict_images=strict_images, overwrite_images=force)
        batch_options = BatchOptions(max_parallel=jobs, fail_fast=fail_fast, fast_start=not no_fast_start,
                                     preload=preload_modules)
        presentation = Presentation(show_progress=not no_progress, log_output=log_output, verbose=verbose,
                                    junit_xml=junit_xml, json_report=json_report)
        if grid is not None:
            assert output is not None  # checked with --params-grid above
            batch = grid_jobs(paths[0], output, options, file_options, grid)
        else:
            if output is not None and "{" in str(output):
                output = render_output(output, parameters or {})
            batch = make_jobs(plan_batch(paths, output=output, output_dir=output_dir), options, file_options)
        code = execute_jobs(batch, presentation, batch_options, runner=runner)
    finally:
        fast_start.discard_prelaunched()
    if code != exit_codes.OK:
        raise click.exceptions.Exit(code)


@main.command("inspect", context_settings=CONTEXT)
@click.argument("notebook", type=click.Path(path_type=Path))
def inspect_command(notebook: Path) -> None:
    """List the parameters a NOTEBOOK declares in its cell tagged 'parameters'."""
    from nbrun.errors import NbrunError
    from nbrun.notebook_io import read_notebook
    from nbrun.parameters import declared_parameters

    try:
        declared = declared_parameters(read_notebook(notebook))
    except NbrunError as exc:
        raise CliError.with_code(str(exc), exit_codes.for_error(exc)) from None
    if not declared:
        click.echo(f"{notebook}: no cell tagged 'parameters'", err=True)
        return
    click.echo(f"Parameters of {notebook}:")
    width = max(len(p.name) for p in declared)
    for parameter in declared:
        kind = parameter.annotation or parameter.inferred_type
        note = f"  # {parameter.comment}" if parameter.comment else ""
        click.echo(f"  {parameter.name.ljust(width)}  {kind:<10}  default {parameter.default}{note}")


def _dask_runner(address: str | None, retries: int, fail_fast: bool) -> DaskRunner | None:
    """The --dask runner; exit 2 with one line when the extra is missing."""
    if address is None:
        if click.get_current_context().get_parameter_source("retries") is not ParameterSource.DEFAULT:
            raise click.UsageError("--retries needs --dask")
        return None
    if click.get_current_context().params.get("autosave_seconds") is not None:
        raise click.UsageError("--autosave does not work with --dask (the notebook is on the worker until it ends)")
    from nbrun.dask_backend import DaskRunner, DaskUnavailableError

    try:
        return DaskRunner(address, retries=retries, fail_fast=fail_fast)
    except DaskUnavailableError as exc:
        raise CliError.with_code(str(exc), exit_codes.USAGE) from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--dask") from None


def _configure_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("nbrun: %(levelname)s: %(message)s"))
    nbrun_log = logging.getLogger("nbrun")
    nbrun_log.handlers[:] = [handler]
    nbrun_log.propagate = False
    nbrun_log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    for noisy in ("traitlets", "asyncio", "jupyter_client"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 1 else logging.CRITICAL)


if __name__ == "__main__":  # pragma: no cover
    main()
