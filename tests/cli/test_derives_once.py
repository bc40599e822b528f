"""The CLI declares the execution flags once: run, check and cache key take the same ones.

Before, ``nbrun check`` dropped ``--transport`` and ``nbrun cache key`` had its
own copies of the flags (a hard-coded 10 MiB default, no --startup-timeout),
so the key it printed could differ from the one ``nbrun run`` stored under.
"""

from __future__ import annotations

import pytest

from nbrun.cli import main
from nbrun.cli.inputs.execution_flags import FLAG_NAMES

COMMANDS = {
    "run": main.commands["run"],
    "check": main.commands["check"],
    "cache key": main.commands["cache"].commands["key"],  # type: ignore[attr-defined]
}


def _declared(command_name: str) -> dict[str, tuple[tuple[str, ...], object, object]]:
    params = COMMANDS[command_name].params
    return {p.name: (tuple(p.opts), p.default, type(p.type).__name__) for p in params if p.name in FLAG_NAMES}


@pytest.mark.parametrize("command_name", sorted(COMMANDS))
def test_every_command_takes_every_execution_flag_alike(command_name: str) -> None:
    assert _declared(command_name) == _declared("run")
    assert set(_declared(command_name)) == set(FLAG_NAMES)


def test_a_click_usage_error_is_one_nbrun_error_line() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "nbrun", "run", "--no-such-flag", "x.ipynb"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nbrun: error: No such option"), proc.stderr
