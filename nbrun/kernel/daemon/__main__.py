"""``python -m nbrun.kernel.daemon [--idle-timeout S]``: the program that starts the daemon, detached.

Says ``started PID`` or ``running PID`` on stdout (exit 0), or why not on stderr (exit 1);
:func:`nbrun.kernel.daemon.control.start_daemon` reads it. Like ``fork/_forkserver.py``, a
program of its own: the library never prints or exits.
"""

from __future__ import annotations

import argparse
import sys

from .place import DEFAULT_IDLE_TIMEOUT, DaemonUnavailable
from .server import start_here


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m nbrun.kernel.daemon")
    parser.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT)
    idle_timeout = parser.parse_args().idle_timeout
    try:
        started, pid = start_here(idle_timeout)
    except DaemonUnavailable as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    print(f"{'started' if started else 'running'} {pid}")


if __name__ == "__main__":
    main()
