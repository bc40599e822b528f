"""``--prepare-only`` (papermill's): write each notebook with its parameters injected, run nothing."""

from __future__ import annotations

import click

from nbrun.errors import NbrunError
from nbrun.pipeline.core import FileRun
from nbrun.pipeline.prepare_only import prepare_file
from nbrun.runners.batch import BatchJob

from .. import exit_codes
from ..errors import about


def prepare_jobs(jobs: list[BatchJob]) -> int:
    """Prepare every job (no kernel starts); one line per notebook on stderr; the first failure's exit code."""
    code = exit_codes.OK
    for job in jobs:
        try:
            warnings = prepare_file(FileRun(job.source, job.target, job.options))
        except NbrunError as exc:
            click.echo(f"nbrun: error: {about(job.source, exc)}", err=True)
            code = code or exc.status.exit_code
            continue
        for warning in warnings:
            click.echo(f"nbrun: warning: {job.source}: {warning}", err=True)
        click.echo(f"nbrun: prepared {job.source} -> {job.target} (not run)", err=True)
    return code
