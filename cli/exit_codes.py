"""Exit codes of the ``nbrun`` command: each is a :class:`~nbrun.status.RunStatus`'s, named for the CLI.

``nbrun.status`` imports nothing else from nbrun, so ``nbrun --help`` stays light.
An error's exit code is its status's (``error.status.exit_code``, see :mod:`nbrun.errors`).
"""

from __future__ import annotations

from nbrun.status import RunStatus

OK = RunStatus.OK.exit_code  # 0
CELL_ERROR = RunStatus.ERROR.exit_code  # 1
USAGE = RunStatus.USAGE_ERROR.exit_code  # 2
TIMEOUT = RunStatus.TIMEOUT.exit_code  # 3
KERNEL = RunStatus.KERNEL_FAILED.exit_code  # 4
NOTEBOOK_INVALID_OR_IO = RunStatus.IO_ERROR.exit_code  # 5
OUTPUTS_DIFFER = RunStatus.MISMATCH.exit_code  # 6, nbrun check
EXPECTATION_FAILED = RunStatus.EXPECTATION_FAILED.exit_code  # 7
OUT_OF_MEMORY = RunStatus.OUT_OF_MEMORY.exit_code  # 8
SIGINT = RunStatus.INTERRUPTED.exit_code  # 130
SIGTERM = RunStatus.INTERRUPTED.exit_code_for("SIGTERM")  # 143

HELP_TEXT = """\
Exit codes: 0 success; 1 a cell raised; 2 usage error (a flag, parameters refused, an
extra or a URL's package missing) or the notebook's own environment could not be
built; 3 a cell or the notebook timed out; 4 the kernel died (even if
--restart-on-death restarted it), failed to start or is unknown, or its messages were
lost (status incomplete); 5 a notebook is unreadable or invalid, or an output could not be
written; 6 (nbrun check) new outputs differ from the stored ones; 7 an
expectation on the recorded values failed; 8 a notebook ran out of memory (over
--max-memory, or ended by the OOM killer); 130 / 143
interrupted by SIGINT / SIGTERM or SIGHUP. With several notebooks: the code of the
first failing notebook in the order given."""
