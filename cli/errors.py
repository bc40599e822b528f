"""The CLI's own error: one ``nbrun: error:`` line on stderr and the exit code it carries."""

from __future__ import annotations

import click


class CliError(click.ClickException):
    """An error the command reports in one line; the subclass's ``exit_code`` is the process's (click's pattern)."""

    @classmethod
    def with_code(cls, message: str, exit_code: int) -> CliError:
        """An instance of the subclass whose ``exit_code`` is *exit_code*."""
        return type(f"CliError{exit_code}", (cls,), {"exit_code": exit_code})(message)

    def show(self, file: object = None) -> None:
        click.echo(f"nbrun: error: {self.format_message()}", err=True)


class NothingToRun(click.ClickException):
    """An argument names no notebook (a usage error: exit 2, one line)."""

    exit_code = 2
