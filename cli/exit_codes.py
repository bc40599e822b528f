"""Exit codes of the ``nbrun`` command, one place for all of them."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep `nbrun --help` from importing the library
    from nbrun.errors import NbrunError

OK = 0
CELL_ERROR = 1
USAGE = 2
TIMEOUT = 3
KERNEL = 4
NOTEBOOK_INVALID_OR_IO = 5
OUTPUTS_DIFFER = 6  # nbrun check
SIGINT = 128 + signal.SIGINT  # 130
SIGTERM = 128 + signal.SIGTERM  # 143

HELP_TEXT = """\
Exit codes: 0 success; 1 a cell raised; 2 usage error; 3 a cell or the
notebook timed out; 4 the kernel died (even if --restart-on-death restarted it), failed to
start or is unknown, or its messages were lost (status incomplete);
5 a notebook is unreadable or invalid, or an output could not be written;
6 (nbrun check) new outputs differ from the stored ones; 130 / 143
interrupted by SIGINT / SIGTERM or SIGHUP. With several notebooks: the code of the
first failing notebook in the order given."""


def for_error(error: NbrunError) -> int:
    """The exit code for an error raised before or after execution."""
    from nbrun.errors import ExecutionInterrupted, KernelError, NotebookError, ParameterError

    if isinstance(error, ParameterError):
        return USAGE
    from nbrun.storage.locations import LocationError, MissingExtraError

    if isinstance(error, (MissingExtraError, LocationError)):  # an extra or a filesystem package is missing
        return USAGE
    if isinstance(error, ExecutionInterrupted):
        return SIGINT
    if isinstance(error, NotebookError):
        return NOTEBOOK_INVALID_OR_IO
    if isinstance(error, KernelError):
        return KERNEL
    return CELL_ERROR
