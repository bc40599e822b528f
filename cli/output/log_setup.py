"""Where the library's log records go on the command line: stderr, one prefixed line each."""

from __future__ import annotations

import logging
import sys

from .bar_safe import BarSafeHandler


def configure_logging(verbose: int) -> None:
    """nbrun's log records as ``nbrun: LEVEL: message`` lines on stderr, at the level ``-v`` asks for."""
    handler = BarSafeHandler(sys.stderr)  # log records do not tear progress bars
    handler.setFormatter(logging.Formatter("nbrun: %(levelname)s: %(message)s"))
    nbrun_log = logging.getLogger("nbrun")
    nbrun_log.handlers[:] = [handler]
    nbrun_log.propagate = False
    nbrun_log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    handler.setLevel(nbrun_log.level)  # --events may lower the logger's level to hear kernel-start retries
    for noisy in ("traitlets", "asyncio", "jupyter_client"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 1 else logging.CRITICAL)
