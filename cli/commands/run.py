"""The ``nbrun`` command line (click). Owns argv, printing and exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from .. import exit_codes
from ..errors import CliError, NbrunGroup
from ..inputs.cache_flags import cache_run_options
from ..inputs.env_flags import env_run_options
from ..inputs.execution_flags import execute_options, execution_flags, parameters_of
from ..inputs.locations import WHERE, check_json_destination, check_text_support, discover_or_fail
from ..inputs.run_flags import (
    AUTO_JOBS,
    BatchFlags,
    OutputFlags,
    RecordFlags,
    batch_flags,
    output_flags,
    record_flags,
)
from ..inputs.shards import shard_and_fit
from ..output.log_setup import configure_logging

if TYPE_CHECKING:
    from nbrun.cache import CacheSettings
    from nbrun.options import EnvironmentSettings
    from nbrun.runners.dask import DaskRunner
    from nbrun.storage.locations import Where

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


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
@batch_flags
@output_flags
@record_flags
@execution_flags
@cache_run_options
@env_run_options
def run_command(
    notebooks: tuple[Where, ...],
    batch: BatchFlags,
    written: OutputFlags,
    shown: RecordFlags,
    cache: CacheSettings | None,
    environments: EnvironmentSettings | None,
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

    jobs, output = batch.jobs, written.output  # both may be refined below
    written.check()
    if written.write_html:
        from .report import require_html_extra

        require_html_extra()
    if written.report_mode and written.output is None and written.output_dir is None:
        also = "their --html pages hide it" if written.write_html else "add -o, --output-dir or --html to hide it"
        click.echo(
            f"nbrun: warning: --report-mode on an in-place run keeps the code visible in the notebooks; {also}",
            err=True,
        )
    paths = discover_or_fail(notebooks, batch.exclude, include_text=batch.include_text)  # a URL glob may fail to list
    own = [written.output_dir, written.extract_images, cache.directory if cache is not None else None]
    paths = leave_out_run_folders(paths, notebooks, own)  # out/ inside the searched folder is not searched again
    check_inputs(notebooks, paths)  # nothing runs when a path is wrong
    check_text_support(paths)
    check_json_destination(shown.json_report)
    if not paths:
        raise click.UsageError("no notebooks left to run after --exclude")
    if batch.shard is not None or jobs == AUTO_JOBS:
        paths, jobs = shard_and_fit(paths, batch, cache, jobs)
        if not paths:
            return  # an empty shard (more shards than notebooks) is not a failure; said above
    if output is not None and len(paths) > 1:
        raise click.UsageError("-o/--output takes one notebook; use --output-dir for several")
    if shown.events_path == "-" and (shown.json_report == "-" or output == Path("-")):
        raise click.UsageError("--events - shares stdout with -o - or --json -; send one of them to a file")
    stdio = redirect_stdio(
        paths, output, json_to_stdout=shown.json_report == "-", output_dir=written.output_dir
    )  # "-" is stdin/stdout
    paths, output = stdio.paths, stdio.output
    # a notebook on stdin has no folder of its own (papermill: the current folder)
    default_cwd = Path.cwd() if stdio.reads_stdin else None
    from ..inputs.params import load_grid

    parameters = parameters_of(execution)
    grid = load_grid(batch.params_grid) if batch.params_grid is not None else None
    if grid is not None and (len(paths) != 1 or output is None):
        raise click.UsageError(
            "--params-grid runs one notebook and needs -o with a template such as 'out/{region}.ipynb'"
        )
    preload_modules = tuple(name.strip() for name in batch.preload.split(",") if name.strip())
    runner = _dask_runner(batch.dask_address, batch.retries, batch.fail_fast)
    if runner is not None and click.get_current_context().get_parameter_source("jobs") is ParameterSource.DEFAULT:
        jobs = len(paths) if grid is None else len(grid)  # the cluster schedules; submit everything
    from nbrun.kernel import fork as fast_start
    from nbrun.kernel.peek import any_forkable
    from nbrun.storage.cache_folder import may_hold_entries

    # only for ipykernel notebooks; with a cache that may hold entries, the template starts at the first miss
    if (
        not batch.no_fast_start
        and runner is None
        and (cache is None or not may_hold_entries(cache.directory))
        and not batch.prepare_only
        and any_forkable(paths, execution["kernel_name"])
    ):
        if batch.daemon:  # reach the daemon (or start it) while the rest of nbrun is imported
            from nbrun.kernel.daemon import prelaunch_daemon

            configure_logging(shown.verbose)  # it may say, in one line, that it forks from its own template
            prelaunch_daemon(preload_modules)
        else:
            fast_start.prelaunch(preload_modules)  # the template boots while the rest of nbrun is imported
    try:
        from nbrun.notebook.files import read_from
        from nbrun.options import BatchOptions

        from ..batch import Presentation, execute_jobs
        from ..inputs.params import render_output
        from ..inputs.plan import grid_jobs, make_jobs, plan_batch
        from ..output.event_stream import EventStream
        from ..output.github import mask_commands
        from ..output.log_lines import check_stream_files

        configure_logging(shown.verbose)
        options = execute_options(execution, parameters=parameters, cwd=default_cwd)
        for command in mask_commands(options.secrets):  # before anything else is printed
            click.echo(command, err=True)
        file_options = written.file_options(cache).with_changes(environments=environments)
        batch_options = BatchOptions(
            max_parallel=jobs,
            fail_fast=batch.fail_fast,
            fast_start=not batch.no_fast_start,
            preload=preload_modules,
            prestart=batch.prestart,
            daemon=batch.daemon,
        )
        presentation = Presentation(
            show_progress=not shown.no_progress,
            log_output=shown.log_output,
            verbose=shown.verbose,
            junit_xml=shown.junit_xml,
            json_report=shown.json_report,
            display=stdio.display,
            report_page=shown.report_page,
            events=EventStream(shown.events_path) if shown.events_path else None,
            stream_files={"stdout": shown.stdout_file, "stderr": shown.stderr_file},
            github=shown.github,
            summary_md=shown.summary_md,
        )
        if grid is not None:
            assert output is not None  # checked with --params-grid above
            planned = grid_jobs(paths[0], output, options, file_options, grid)
        else:
            if output is not None and "{" in str(output):
                output = render_output(output, parameters or {}, lambda: read_from(paths[0]))
            planned = make_jobs(
                plan_batch(paths, output=output, output_dir=written.output_dir, root=mirror_root(notebooks)),
                options,
                file_options,
            )
        check_stream_files(shown.stdout_file, shown.stderr_file, len(planned))
        if batch.prepare_only:  # papermill's --prepare-only
            from .prepare_only import prepare_jobs

            code = prepare_jobs(planned)
        else:
            code = execute_jobs(planned, presentation, batch_options, runner=runner)
    finally:
        fast_start.discard_prelaunched()
        stdio.finish()
    if code != exit_codes.OK:
        raise click.exceptions.Exit(code)


@main.command(
    "inspect", context_settings=CONTEXT, short_help="List the parameters and dependencies a notebook declares."
)
@click.argument("notebook", type=WHERE)
def inspect_command(notebook: Where) -> None:
    """List the parameters a NOTEBOOK declares in its cell tagged 'parameters', and its own environment.

    The environment is what a PEP 723 '# /// script' block, metadata.uv or
    metadata["uv.lock"] declares (nbrun run builds it with uv; see --env).
    """
    from nbrun.environments.declarations import read_declarations
    from nbrun.errors import NbrunError
    from nbrun.notebook.files import read_from
    from nbrun.notebook.parameter_cells import declared_parameters

    try:
        nb = read_from(notebook)  # a path or URL, .ipynb or text
        declared = declared_parameters(nb)
        environment = read_declarations(nb)
    except NbrunError as exc:
        raise CliError(str(exc), exc.status.exit_code) from None
    if not declared:
        click.echo(f"{notebook}: no cell tagged 'parameters'", err=True)
    else:
        click.echo(f"Parameters of {notebook}:")
        width = max(len(p.name) for p in declared)
        for parameter in declared:
            kind = parameter.annotation or parameter.inferred_type
            note = f"  # {parameter.comment}" if parameter.comment else ""
            click.echo(f"  {parameter.name.ljust(width)}  {kind:<10}  default {parameter.default}{note}")
    if environment is not None:
        click.echo(f"Environment of {notebook} (from {environment.where}):")
        for dependency in environment.dependencies or ("(no dependencies)",):
            click.echo(f"  {dependency}")
        if environment.requires_python:
            click.echo(f"  requires-python {environment.requires_python}")
        locked = environment.locked_packages()
        if environment.lock is not None:
            click.echo(f"  locked by metadata['uv.lock']: {', '.join(locked) or 'no packages'}")


from .report import report_command  # noqa: E402 - `nbrun report`

main.add_command(report_command)


def leave_out_run_folders(paths: list[Where], named: tuple[Where, ...], folders: list[Where | None]) -> list[Where]:
    """*paths* without the notebooks a search found in this run's own output, images or cache folder.

    A notebook named on the command line is kept wherever it is.
    """
    local = [folder.resolve() for folder in folders if isinstance(folder, Path)]
    if not local:
        return paths
    explicit = {path.resolve() for path in named if isinstance(path, Path)}

    def own(path: Where) -> bool:
        real = path.resolve() if isinstance(path, Path) else None
        return real is not None and real not in explicit and any(real.is_relative_to(folder) for folder in local)

    return [path for path in paths if not own(path)]


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
