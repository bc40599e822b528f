"""``nbrun daemon start|stop|status``: the kernel daemon that keeps fork templates warm between runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import click

from ..errors import CliError
from ..inputs.execution_flags import SECONDS

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
T = TypeVar("T")
UNAVAILABLE = 1  # the daemon could not be started or reached, or its socket is not this user's

HELP_TEXT = """\
Exit codes: 0 done; 1 the daemon could not be started or reached, or its socket or
folder belongs to another user or is open to others (the reason on stderr); nbrun daemon
status: 1 also when no daemon runs."""


@click.group(
    "daemon",
    context_settings=CONTEXT,
    epilog=HELP_TEXT,
    short_help="Keep kernel templates warm between runs (nbrun run --daemon).",
)
def daemon_group() -> None:
    """Keep a warm kernel template per environment running between commands (opt-in).

    `nbrun run --daemon` (or NBRUN_DAEMON=1) forks each kernel from it, starting it if none
    runs; every kernel is still a fresh process with the run's folder and environment. The
    daemon listens on a Unix socket only this user can reach and ends after its idle timeout.
    """


def _asking(call: Callable[[], T]) -> T:
    """*call*'s answer; a daemon that cannot be used is one ``nbrun: error:`` line, exit 1."""
    from nbrun.kernel.daemon import DaemonUnavailable

    try:
        return call()
    except DaemonUnavailable as exc:
        raise CliError(f"daemon: {exc}", UNAVAILABLE) from None


@daemon_group.command(
    "start", context_settings=CONTEXT, epilog=HELP_TEXT, short_help="Start the daemon and warm its template."
)
@click.option(
    "--idle-timeout",
    type=SECONDS,
    default="10m",
    show_default=True,
    help="End the daemon after this long without a run connected.",
)
@click.option(
    "--preload",
    metavar="MODULES",
    default="",
    help="Comma-separated modules the warm template imports (as nbrun run --daemon --preload gives them).",
)
def start_command(idle_timeout: float, preload: str) -> None:
    """Start the daemon (unless one runs) and boot the template of this interpreter and environment."""
    from nbrun.kernel.daemon import daemon_status, socket_path, start_daemon, warm_daemon

    modules = tuple(name.strip() for name in preload.split(",") if name.strip())
    running = _asking(daemon_status)
    pid = running.pid if running is not None else _asking(lambda: start_daemon(idle_timeout))
    template = _asking(lambda: warm_daemon(modules))
    if running is not None:
        click.echo(f"nbrun: daemon already running (pid {pid}, socket {socket_path()})", err=True)
    else:
        click.echo(
            f"nbrun: daemon started (pid {pid}, socket {socket_path()}, idle timeout {idle_timeout:g}s)", err=True
        )
    if template is None:
        raise CliError("daemon: its template did not start (is ipykernel installed in this interpreter?)", UNAVAILABLE)


@daemon_group.command("stop", context_settings=CONTEXT, epilog=HELP_TEXT, short_help="Stop the daemon and its kernels.")
def stop_command() -> None:
    """Stop the daemon; kernels it forked that still run are terminated."""
    from nbrun.kernel.daemon import stop_daemon

    pid = _asking(stop_daemon)
    click.echo("nbrun: no daemon was running" if pid is None else f"nbrun: daemon stopped (pid {pid})", err=True)


@daemon_group.command("status", context_settings=CONTEXT, epilog=HELP_TEXT, short_help="Say whether the daemon runs.")
def status_command() -> None:
    """Say whether the daemon runs: its pid, socket, idle timeout, warm templates and kernels."""
    from nbrun.kernel.daemon import daemon_status, socket_path

    status = _asking(daemon_status)
    if status is None:
        click.echo(f"nbrun: no daemon is running (socket {socket_path()})")
        raise click.exceptions.Exit(UNAVAILABLE)
    up = time.time() - status.started
    click.echo(
        f"daemon pid {status.pid}, socket {status.socket}, up {up:.0f}s, idle timeout {status.idle_timeout:g}s, "
        f"{status.kernels} kernel(s) running"
    )
    for template in status.templates:
        preload = ",".join(template["preload"]) or "-"
        click.echo(
            f"  template pid {template['pid']}: {template['python']} (preload {preload}), {template['kernels']} kernel(s)"
        )
