"""``nbrun report RUN.json -o page.html`` and the CLI side of ``--html`` / ``--report``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .. import exit_codes
from ..errors import CliError

if TYPE_CHECKING:
    from nbrun.storage.locations import Where

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def require_html_extra() -> None:
    """Exit 2 with the one-line message when --html is asked for without nbconvert."""
    from nbrun.errors import MissingExtraError
    from nbrun.reports.html_export import require_nbconvert

    try:
        require_nbconvert()
    except MissingExtraError as exc:
        raise CliError(str(exc), exc.status.exit_code) from None


def write_page(record: dict[str, Any], destination: Where) -> bool:
    """Write the run page; an unwritable destination is one line on stderr and False."""
    from nbrun.errors import NbrunError
    from nbrun.reports.run_page import write_run_page

    try:
        write_run_page(record, destination)
    except NbrunError as exc:
        click.echo(f"nbrun: error: {exc}", err=True)
        return False
    return True


@click.command(
    "report",
    context_settings=CONTEXT,
    short_help="Render JSON run records (shards merged) as one HTML page.",
)
@click.argument(
    "record_files", metavar="RUN.json...", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False)
)
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False), help="Write the HTML page here."
)
def report_command(record_files: tuple[Path, ...], output: Path) -> None:
    """Render the run records RUN.json (from 'nbrun run --json') as one static HTML page.

    Several records (the --shard parts of one CI run) are merged: their
    notebooks in the order given, totals summed, the exit code of the first
    failing notebook.
    """
    from nbrun.errors import NbrunError
    from nbrun.reports.merged_records import merged_record
    from nbrun.reports.run_page import write_run_page

    records = [_read_record(path) for path in record_files]
    try:
        write_run_page(merged_record(records, [str(path) for path in record_files]), output)
    except NbrunError as exc:
        _fail(str(exc), exc.status.exit_code)
    click.echo(f"nbrun: wrote {output}", err=True)


def _read_record(record_file: Path) -> dict[str, Any]:
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"{record_file}: cannot read: {exc.strerror or exc}", exit_codes.NOTEBOOK_INVALID_OR_IO)
    except ValueError as exc:  # not UTF-8, not JSON, or an integer beyond Python's digit limit
        _fail(f"{record_file}: not a JSON run record: {exc}", exit_codes.NOTEBOOK_INVALID_OR_IO)
    if not isinstance(record, dict) or not isinstance(record.get("notebooks"), list):
        _fail(f"{record_file}: not a JSON run record (no 'notebooks' list)", exit_codes.NOTEBOOK_INVALID_OR_IO)
    return record


def _fail(message: str, code: int) -> NoReturn:
    raise CliError(message, code)
