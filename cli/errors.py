"""The CLI's own error: one ``nbrun: error:`` line on stderr and the exit code it carries."""

from __future__ import annotations

import click


class CliError(click.ClickException):
    """An error the command reports in one line; its ``exit_code`` is the process's (click reads it on the instance)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: object = None) -> None:
        click.echo(f"nbrun: error: {self.format_message()}", err=True)


class NothingToRun(click.ClickException):
    """An argument names no notebook (a usage error: exit 2, one line)."""

    exit_code = 2
