"""The flags that say how a notebook is executed, declared once for ``run``, ``check`` and ``cache key``.

``nbrun cache key`` must compute the key ``nbrun run`` would with the same
flags, and ``nbrun check`` must run as ``nbrun run`` does: so all three take
these options from here and build their :class:`~nbrun.options.ExecuteOptions`
with :func:`execute_options`, the one flags-to-options builder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from nbrun.options import DEFAULT_MAX_OUTPUT_BYTES, ExecuteOptions
from nbrun.units import parse_duration, parse_size

from .secret_flags import SECRET_FLAG_NAMES, SECRET_FLAGS, secrets_of

F = TypeVar("F", bound=Callable[..., Any])


class _Seconds(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2; 8.1 is supported too
    """A positive duration: ``90``, ``90s``, ``5m``, ``1h`` (nbrun.units); with *zero_is_none*, 0 means no limit."""

    name = "seconds"

    def __init__(self, zero_is_none: bool = False) -> None:
        self.zero_is_none = zero_is_none

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
        else:
            try:
                seconds = parse_duration(str(value))
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        if seconds == 0 and self.zero_is_none:
            return None
        if seconds <= 0:
            self.fail(f"{value!r} is not a positive duration", param, ctx)
        return seconds


class _Size(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2; 8.1 is supported too
    """A positive size in bytes: ``1048576``, ``500K``, ``10M``, ``10MB``, ``10MiB`` (nbrun.units, powers of 1024)."""

    name = "size"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            size = value
        else:
            try:
                size = parse_size(str(value))
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        if size < 1:
            self.fail(f"{value!r} is not a positive size", param, ctx)
        return size


SECONDS = _Seconds()
LIMIT = _Seconds(zero_is_none=True)  # a time limit: 0 means none, as in the pytest plugin
SIZE = _Size()


def _no_flags_taken(ctx: click.Context, pairs: tuple[tuple[str, str], ...], flag: str) -> tuple[tuple[str, str], ...]:
    """A NAME VALUE pair whose word is one of the command's flags lost its value (``-p n_days -o out.ipynb``)."""
    flags = {opt for param in ctx.command.params for opt in (*param.opts, *param.secondary_opts) if opt.startswith("-")}
    for name, value in pairs:
        taken = value if value in flags else name if name in flags else None
        if taken is not None:
            raise click.UsageError(
                f"{flag} {name} {value}: {flag} takes NAME VALUE, and {taken} is a flag of this command "
                f"(the value is missing?)"
            )
    return pairs


_FLAGS: tuple[Callable[[F], F], ...] = (
    click.option(
        "-k",
        "--kernel",
        "kernel_name",
        metavar="NAME",
        help="Kernel to start.  [default: the notebook's, else python3]",
    ),
    click.option(
        "--cwd",
        type=click.Path(path_type=Path, file_okay=False, exists=True),
        metavar="DIR",
        help="Kernel working directory.  [default: the notebook's folder; for a URL a local temporary folder]",
    ),
    click.option(
        "--timeout",
        type=LIMIT,
        help="Per-cell wall-clock limit; on expiry the cell is interrupted.  [default: no limit]",
    ),
    click.option(
        "--notebook-timeout",
        type=LIMIT,
        help="Wall-clock limit for each whole notebook (0: none).  [default: no limit]",
    ),
    click.option(
        "--startup-timeout",
        type=SECONDS,
        default=ExecuteOptions.startup_timeout,
        show_default=True,
        help="Limit for the kernel to start.",
    ),
    click.option(
        "--interrupt-grace",
        type=SECONDS,
        default=ExecuteOptions.interrupt_grace,
        show_default=True,
        help="After an interrupt, wait this long before killing the kernel.",
    ),
    click.option(
        "--allow-errors", is_flag=True, help="Run every cell even when some raise; errors are recorded, exit 0."
    ),
    click.option(
        "--restart-on-death", is_flag=True, help="If the kernel dies, start a fresh one and go on with the next cell."
    ),
    click.option(
        "--max-output-bytes",
        type=SIZE,
        metavar="SIZE",
        default=DEFAULT_MAX_OUTPUT_BYTES,
        help="Output kept per cell (bytes, or 500K, 10M, 10MiB); the rest is dropped with a visible marker.  [default: 10M]",
    ),
    click.option(
        "--max-memory",
        type=SIZE,
        metavar="SIZE",
        help="Memory the kernel's processes may use per notebook (512M, 2G); over it the notebook is out-of-memory (exit 8).  [default: no limit]",
    ),
    click.option(
        "--stdin-file",
        type=click.File("r", encoding="utf-8"),
        metavar="FILE",
        help="Answer input() calls with this file's lines, in order.",
    ),
    click.option(
        "--transport",
        type=click.Choice(["auto", "ipc", "tcp"]),
        default="auto",
        show_default=True,
        help="Kernel sockets: auto uses IPC for ipykernel and TCP on 127.0.0.1 for other kernels.",
    ),
    click.option(
        "-p",
        "--parameter",
        "typed_params",
        nargs=2,
        multiple=True,
        metavar="NAME VALUE",
        callback=lambda ctx, param, value: _no_flags_taken(ctx, value, "-p"),
        help="Parameter; VALUE read as papermill does: True, False, None, int, float, else string (repeatable).",
    ),
    click.option(
        "-r",
        "--raw-parameter",
        "raw_params",
        nargs=2,
        multiple=True,
        metavar="NAME VALUE",
        callback=lambda ctx, param, value: _no_flags_taken(ctx, value, "-r"),
        help="Parameter whose VALUE stays a string (repeatable).",
    ),
    click.option(
        "-y",
        "--parameters-yaml",
        "yaml_params",
        multiple=True,
        metavar="YAML",
        help="Parameters as a YAML mapping string (repeatable).",
    ),
    click.option(
        "-f",
        "--parameters-file",
        "file_params",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="Parameters from a YAML or JSON FILE (repeatable).",
    ),
    click.option(
        "--strict-params",
        is_flag=True,
        help="A parameter the notebook's parameters cell does not declare, a value of another type than its default, or a notebook with no parameters cell is an error (exit 2).",
    ),
    click.option(
        "--clear-params",
        is_flag=True,
        help="Without -p/-r/-y/-f: drop the injected-parameters cell an earlier run left, so the notebook's defaults apply.  [default: its values are used again, and said]",
    ),
    *SECRET_FLAGS,
)

FLAG_NAMES = (
    "kernel_name",
    "cwd",
    "timeout",
    "notebook_timeout",
    "startup_timeout",
    "interrupt_grace",
    "allow_errors",
    "restart_on_death",
    "max_output_bytes",
    "max_memory",
    "stdin_file",
    "transport",
    "typed_params",
    "raw_params",
    "yaml_params",
    "file_params",
    "strict_params",
    "clear_params",
    *SECRET_FLAG_NAMES,
)


def execution_flags(command: F) -> F:
    """Decorate *command* with every execution flag (its callback takes them as ``**execution``)."""
    for flag in reversed(_FLAGS):
        command = flag(command)
    return command


def parameters_of(flags: Mapping[str, Any]) -> dict[str, Any] | None:
    """The notebook parameters that -f, -y, -p and -r give, merged in that order."""
    from .params import collect_parameters

    return collect_parameters(flags["file_params"], flags["yaml_params"], flags["typed_params"], flags["raw_params"])


def execute_options(
    flags: Mapping[str, Any], *, parameters: dict[str, Any] | None, cwd: Path | None = None
) -> ExecuteOptions:
    """The ExecuteOptions the execution flags ask for (*cwd* when ``--cwd`` is not given)."""
    stdin = flags["stdin_file"]
    folder = flags["cwd"] or cwd
    return ExecuteOptions(
        kernel_name=flags["kernel_name"],
        cwd=folder.resolve() if folder else None,
        timeout=flags["timeout"],
        notebook_timeout=flags["notebook_timeout"],
        startup_timeout=flags["startup_timeout"],
        interrupt_grace=flags["interrupt_grace"],
        allow_errors=flags["allow_errors"],
        restart_on_death=flags["restart_on_death"],
        max_output_bytes=flags["max_output_bytes"],
        max_memory=flags["max_memory"],
        stdin_lines=None if stdin is None else tuple(line.rstrip("\r\n") for line in stdin),
        parameters=parameters,
        strict_parameters=flags["strict_params"],
        clear_parameters=flags["clear_params"],
        transport=flags["transport"],
        secrets=secrets_of(flags),
    )
