"""Running the command line in-process and checking one-line errors (shared by the CLI test files)."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from nbrun.cli import main


def invoke(*args: str) -> Any:
    """``nbrun run ARGS`` in-process; exceptions propagate (a traceback is a bug)."""
    return CliRunner().invoke(main, ["run", *args], catch_exceptions=False)


def one_line(text: str) -> str:
    """The only non-blank line of *text*, which must hold no traceback."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]
