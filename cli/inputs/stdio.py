"""``-`` as a notebook path, papermill's convention: read the input from stdin, write the output to stdout.

The notebook goes through a private temporary folder, so the library keeps
reading and writing files; stdout carries nothing but the executed notebook
(every message goes to stderr).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click

from nbrun.storage.locations import Where

STDIO = Path("-")


@dataclass
class StdioNotebooks:
    """Where ``-`` arguments were redirected, and what to send to stdout at the end."""

    paths: list[Where]
    output: Where | None
    stdout_target: Path | None = None
    folder: Path | None = None
    display: dict[Path, str] = field(default_factory=dict)
    reads_stdin: bool = False

    def finish(self) -> None:
        """Copy the executed notebook to stdout (when it was written), then remove the folder."""
        try:
            if self.stdout_target is not None and self.stdout_target.is_file():
                with open(self.stdout_target, "rb") as handle:
                    shutil.copyfileobj(handle, sys.stdout.buffer)
                sys.stdout.flush()
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)


def redirect_stdio(
    paths: list[Where], output: Where | None, *, json_to_stdout: bool, output_dir: Where | None = None
) -> StdioNotebooks:
    """Replace ``-`` in *paths* / *output* by files in a temporary folder.

    An input read from stdin without ``-o`` is written to stdout (it has no
    place of its own to be written back to).
    """
    reads_stdin = STDIO in paths
    if reads_stdin and (len(paths) > 1 or output_dir is not None):
        raise click.UsageError(
            "'-' (the notebook on stdin) must be the only notebook, written with -o (default: stdout)"
        )
    if reads_stdin and output is None:
        output = STDIO
    if output != STDIO and not reads_stdin:
        return StdioNotebooks(paths, output)
    if output == STDIO and json_to_stdout:
        raise click.UsageError("-o - and --json - both write to stdout; send one of them to a file")
    folder = Path(tempfile.mkdtemp(prefix="nbrun-stdio-"))
    plan = StdioNotebooks(paths, output, folder=folder)
    if reads_stdin:
        source = folder / "stdin.ipynb"
        source.write_bytes(sys.stdin.buffer.read())
        plan.paths = [source]
        plan.reads_stdin = True
        plan.display[source] = "<stdin>"
    if output == STDIO:
        plan.stdout_target = plan.output = folder / "stdout.ipynb"
        plan.display[plan.stdout_target] = "<stdout>"
    return plan
