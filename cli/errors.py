"""How the CLI fails: one ``nbrun: error:`` line on stderr and a documented exit code.

Every failure the command reports, its own (:class:`CliError`) and click's
usage errors alike, goes through :class:`NbrunGroup`, so a wrong flag reads
as the rest do and a script sees the same prefix whatever went wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from nbrun.errors import NotebookError

USAGE_EXIT = 2  # click's own code for a usage error; RunStatus.USAGE_ERROR has the same


# Flags of the tools nbrun replaces, with what to write instead (click's closest-match guess misleads).
FLAGS_FROM_ELSEWHERE = {
    "--inplace": "nbrun writes the executed notebook in place by default (-o FILE or --output-dir DIR write elsewhere)",
    "--to": "nbrun writes notebooks; --html also writes each one as an HTML page",
    "--execute": "nbrun run always executes; drop the flag",
}


class CliError(Exception):
    """An error the command reports in one line; ``exit_code`` is the process's."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class NothingToRun(CliError):
    """An argument names no notebook (a usage error: exit 2, one line)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE_EXIT)


def about(source: object, error: BaseException) -> str:
    """*error*'s message naming a path once: most of nbrun's errors begin with theirs (the input or the output)."""
    message = str(error)
    named = isinstance(error, NotebookError) and error.path is not None
    return message if named or message.startswith(f"{source}: ") else f"{source}: {message}"


def fail(message: str, exit_code: int) -> NoReturn:
    """Print ``nbrun: error: <message>`` and exit with *exit_code*."""
    click.echo(f"nbrun: error: {message}", err=True)
    sys.exit(exit_code)


class NbrunGroup(click.Group):
    """A click group whose failures are one ``nbrun: error:`` line each."""

    def main(  # type: ignore[override, unused-ignore]  # click 8.5 types main with overloads
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:  # the caller handles exceptions and exit codes itself
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except CliError as error:
            fail(error.message, error.exit_code)
        except click.NoSuchOption as error:
            hint = FLAGS_FROM_ELSEWHERE.get(error.option_name)
            if hint is None:
                hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
                fail(f"{error.format_message()}{hint}", error.exit_code)
            fail(f"{error.option_name} is not an nbrun flag: {hint}", error.exit_code)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
            fail(f"{error.format_message()}{hint}", error.exit_code)
        except click.ClickException as error:
            fail(error.format_message(), error.exit_code)
        except click.Abort:
            fail("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)
