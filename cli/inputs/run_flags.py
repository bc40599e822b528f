"""``nbrun run``'s own flags in three groups, each handed to the command as one object.

The execution flags (shared with ``check`` and ``cache key``) are in
``execution_flags``; the cache flags in ``cache_flags``. A group is
declared once here: its click options and the dataclass the command receives
(:func:`option_group`), so ``run_command`` takes a handful of arguments, not
thirty.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .execution_flags import SECONDS
from .locations import WHERE

if TYPE_CHECKING:
    from nbrun.cache import CacheSettings
    from nbrun.options import FileOptions
    from nbrun.storage.locations import Where

Command = Callable[..., Any]


def option_group(name: str, kind: type[Any], *options: Callable[[Command], Command]) -> Callable[[Command], Command]:
    """Declare *options* on a command and hand their values to it as one *kind* object, argument *name*.

    *kind* is a dataclass whose fields are named like the options' parameters.
    """
    fields = [field.name for field in dataclasses.fields(kind)]

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def collect(*args: Any, **params: Any) -> Any:
            params[name] = kind(**{field: params.pop(field) for field in fields})
            return command(*args, **params)

        declared: Command = collect
        for option in reversed(options):  # as if stacked in this order above the command
            declared = option(declared)
        return declared

    return decorate


AUTO_JOBS = 0  # what -j auto parses to: the command decides (one per CPU, fewer where memory says so)


class Jobs(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2; 8.1 is supported too
    """A positive integer, or ``auto`` (:data:`AUTO_JOBS`)."""

    name = "N|auto"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        if str(value).lower() == "auto":
            return AUTO_JOBS
        try:
            jobs = int(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a number of jobs (or 'auto')", param, ctx)
        if jobs < 1:
            self.fail("needs at least 1 job", param, ctx)
        return jobs


class Shard(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2; 8.1 is supported too
    """``I/N``: the I-th of N parts, 1 <= I <= N."""

    name = "I/N"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        index, _, count = str(value).partition("/")
        if not (index.strip().isdigit() and count.strip().isdigit()) or not 1 <= int(index) <= int(count):
            self.fail(f"{value!r} is not I/N with 1 <= I <= N (e.g. 2/3)", param, ctx)
        return int(index), int(count)


@dataclass(frozen=True)
class BatchFlags:
    """Which notebooks run, how many at once, where (the batch and its kernels)."""

    jobs: int
    exclude: tuple[str, ...]
    fail_fast: bool
    prestart: int | None
    no_fast_start: bool
    daemon: bool
    preload: str
    params_grid: Path | None
    prepare_only: bool
    dask_address: str | None
    retries: int
    include_text: bool
    shard: tuple[int, int] | None
    durations: Path | None


@dataclass(frozen=True)
class OutputFlags:
    """What is written for each notebook: where the executed notebook goes, its images, its HTML."""

    output: Where | None
    output_dir: Where | None
    autosave_seconds: float | None
    extract_images: Where | None
    strip_images: bool
    strict_images: bool
    force: bool
    write_html: bool
    html_allow_scripts: bool
    report_mode: bool
    expect: tuple[str, ...]

    def check(self) -> None:
        """Flags that only make sense together (click.UsageError)."""
        if self.output is not None and self.output_dir is not None:
            raise click.UsageError("use either -o/--output or --output-dir, not both")
        if self.strip_images and self.extract_images is None:
            raise click.UsageError("--strip-images needs --extract-images DIR")
        if self.html_allow_scripts and not self.write_html:
            raise click.UsageError("--html-allow-scripts needs --html")
        if self.write_html:
            from ..commands.report import require_html_extra

            require_html_extra()

    def file_options(self, cache: CacheSettings | None) -> FileOptions:
        """The library's options for what each file run writes."""
        from nbrun.options import FileOptions

        return FileOptions(
            autosave_seconds=self.autosave_seconds,
            extract_images=self.extract_images,
            strip_images=self.strip_images,
            strict_images=self.strict_images,
            overwrite_images=self.force,
            report_mode=self.report_mode,
            write_html=self.write_html,
            html_allow_scripts=self.html_allow_scripts,
            cache=cache,
            expect=self.expect,
        )


@dataclass(frozen=True)
class RecordFlags:
    """What the run reports: records (JUnit, JSON, the run page, events) and the terminal."""

    junit_xml: Where | None
    json_report: str | None
    report_page: Where | None
    events_path: str | None
    no_progress: bool
    log_output: bool
    stdout_file: str | None
    stderr_file: str | None
    verbose: int
    github: bool
    summary_md: Path | None


batch_flags = option_group(
    "batch",
    BatchFlags,
    click.option(
        "-j",
        "--jobs",
        type=Jobs(),
        metavar="N|auto",
        default=1,
        show_default=True,
        help="Run up to N notebooks at once, each in its own kernel ('auto': one per CPU, fewer when earlier runs' peak memory would not fit).",
    ),
    click.option(
        "--shard",
        type=Shard(),
        metavar="I/N",
        help="Run only the I-th of N parts of the notebooks found (one CI job each), balanced by --durations or the cache.",
    ),
    click.option(
        "--durations",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="An earlier run's --json record: its durations balance --shard, its peak memory fits -j auto.",
    ),
    click.option(
        "--exclude",
        multiple=True,
        metavar="PATTERN",
        help="Skip notebooks whose path or a folder name matches PATTERN (repeatable).",
    ),
    click.option(
        "--fail-fast", is_flag=True, help="After a failure, start no further notebooks (running ones finish)."
    ),
    click.option(
        "--prestart",
        type=click.IntRange(min=0),
        metavar="N",
        help="With -j N: kernels booted ahead while notebooks run (default N, so up to 2N kernels are alive).",
    ),
    click.option(
        "--no-fast-start", is_flag=True, help="Launch every kernel normally instead of forking it from a warm template."
    ),
    click.option(
        "--daemon",
        is_flag=True,
        envvar="NBRUN_DAEMON",
        help="Fork kernels from the kernel daemon's warm template, which outlives the command (started if none runs; "
        "see nbrun daemon). Without it, or when it cannot be used, as today.  [env: NBRUN_DAEMON=1]",
    ),
    click.option(
        "--preload",
        metavar="MODULES",
        default="",
        help="Comma-separated modules the warm template imports (e.g. numpy,pandas).",
    ),
    click.option(
        "--params-grid",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="YAML list of parameter mappings: run the notebook once per mapping.",
    ),
    click.option(
        "--prepare-only",
        is_flag=True,
        help="Write the notebooks with their parameters injected, without running them (papermill's flag).",
    ),
    click.option(
        "--dask",
        "dask_address",
        metavar="ADDRESS|local:N",
        help="Run each notebook as a task on a Dask cluster: a scheduler address (tcp://host:8786) or local:N worker processes.",
    ),
    click.option(
        "--retries",
        type=click.IntRange(min=0),
        metavar="N",
        default=1,
        show_default=True,
        help="With --dask: re-run a notebook whose kernel could not start or whose worker was lost.",
    ),
    click.option(
        "--include-text",
        is_flag=True,
        help="Folders and globs also yield jupytext text notebooks (.py percent scripts, MyST .md).",
    ),
)


def _parsed_expectations(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """Each --expect in the grammar, checked before any kernel starts (click.BadParameter otherwise)."""
    from nbrun.values.expectations import ExpectationSyntaxError, parse_expectation

    for text in value:
        try:
            parse_expectation(text)
        except ExpectationSyntaxError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


output_flags = option_group(
    "written",
    OutputFlags,
    click.option(
        "-o",
        "--output",
        type=WHERE,
        metavar="FILE",
        help="Write the executed notebook to FILE (one input only; '-': stdout; may hold {parameter} fields).  [default: in place]",
    ),
    click.option(
        "--output-dir",
        type=WHERE,
        metavar="DIR",
        help="Write executed notebooks into DIR, mirroring the inputs' folders.",
    ),
    click.option(
        "--autosave",
        "autosave_seconds",
        type=SECONDS,
        help="Rewrite the output notebook every SECONDS during the run.  [default: only at the end]",
    ),
    click.option("--extract-images", type=WHERE, metavar="DIR", help="Write image outputs to DIR as PNG/SVG files."),
    click.option(
        "--strip-images",
        is_flag=True,
        help="With --extract-images: drop the base64 images from the notebook, keep file references.",
    ),
    click.option(
        "--strict-images",
        is_flag=True,
        help="A broken image payload makes the run fail (exit 5) instead of only warning.",
    ),
    click.option(
        "--force", is_flag=True, help="Overwrite files in the images folder that nbrun did not write for this notebook."
    ),
    click.option(
        "--html",
        "write_html",
        is_flag=True,
        help="Also write each executed notebook as HTML beside it, failed runs too (needs the html extra).",
    ),
    click.option(
        "--html-allow-scripts",
        is_flag=True,
        help="Let the --html pages run the scripts in their outputs (widgets, interactive plots); by default their Content-Security-Policy blocks every script.",
    ),
    click.option(
        "--report-mode",
        is_flag=True,
        help="Hide code inputs (metadata.jupyter.source_hidden) in the written notebook and its HTML.",
    ),
    click.option(
        "--expect",
        multiple=True,
        metavar="EXPECTATION",
        callback=_parsed_expectations,
        help="An expectation on the values the notebook records, e.g. 'accuracy >= 0.88' (== != < <= > >=, in / "
        "not in [...], and, or); one that fails, or names a value never recorded, is exit 7 (repeatable).",
    ),
)

record_flags = option_group(
    "shown",
    RecordFlags,
    click.option(
        "--junit-xml", type=WHERE, metavar="FILE", help="Write a JUnit XML report (one testcase per notebook)."
    ),
    click.option("--json", "json_report", metavar="FILE", help="Write the JSON run record to FILE ('-': stdout)."),
    click.option(
        "--report",
        "report_page",
        type=WHERE,
        metavar="FILE",
        help="Write one static HTML page for the whole run (rendered from the JSON run record).",
    ),
    click.option(
        "--events",
        "events_path",
        metavar="FILE",
        help="Stream events as JSON Lines to FILE ('-': stdout) as they happen.",
    ),
    click.option("--no-progress", is_flag=True, help="No progress bar (it is also off when stderr is not a terminal)."),
    click.option(
        "--log-output",
        is_flag=True,
        help="Stream cell stdout/stderr live to stderr (each line prefixed with its notebook's name when several run).",
    ),
    click.option(
        "--stdout-file",
        metavar="FILE",
        help="Write the cells' stdout to FILE ({name}/{stem}: the notebook's, for several).",
    ),
    click.option(
        "--stderr-file",
        metavar="FILE",
        help="Write the cells' stderr to FILE ({name}/{stem}: the notebook's, for several).",
    ),
    click.option("-v", "--verbose", count=True, help="Show kernel output and more detail (repeatable: -vv for debug)."),
    click.option(
        "--github",
        is_flag=True,
        help="GitHub Actions annotations (::error per failed notebook at its cell) and a job summary in "
        "$GITHUB_STEP_SUMMARY.  [default: on when GITHUB_ACTIONS=true]",
    ),
    click.option(
        "--summary-md",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="Write the Markdown run summary (totals, failures, values, slowest notebooks) to FILE.",
    ),
)
