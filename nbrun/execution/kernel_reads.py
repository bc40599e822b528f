"""What a Python kernel read, touched and reached during a run (``ExecuteOptions.record_reads``).

Before the first cell, :func:`install_recorder` sends ``reads_recorder``'s
source to the kernel; after the last cell, :func:`collect_reads` asks it
for the environment variable names read, the files and folders used, the
network and subprocess use, and the imported modules from outside the
interpreter. Both are history-free executes whose outputs are dropped
and which define no user names; the execution counts do not move. Other
kernels are skipped (``None``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from ..kernel.protocol import KernelLike
from .cell_runner import CellLimits, run_cell
from .outputs import CellOutputs, DisplayRegistry

REPORT_NAME = "kernel_reads"  # the ExecutionResult.reports entry that carries KernelReads
_MODULE = "_nbrun_reads_recorder"
_MARKER = "nbrun-reads:"
_SOURCE = (Path(__file__).with_name("reads_recorder.py")).read_text(encoding="utf-8")
# One expression statement: a module in sys.modules, nothing in the user namespace.
_BOOT = (
    "import sys, types\n"
    f"if {_MODULE!r} not in sys.modules:\n"
    f"    module = types.ModuleType({_MODULE!r})\n"
    "    exec(compile(SOURCE, '<nbrun reads recorder>', 'exec'), module.__dict__)\n"
    f"    sys.modules[{_MODULE!r}] = module\n"
    f"sys.modules[{_MODULE!r}].install()\n"
)
INSTALL_CODE = f"exec({_BOOT!r}, {{'SOURCE': {_SOURCE!r}}})"
REPORT_CODE = f"__import__('sys').modules[{_MODULE!r}].report({_MARKER!r})"
HELPER_TIMEOUT = 60.0


@dataclass(frozen=True)
class KernelReads:
    """What a run read, touched and reached (absolute paths; see ``reads_recorder``).

    ``files`` are the imported modules' source files from outside the
    interpreter (also in ``read``); ``overflow`` says the run used more
    paths than the recorder keeps.
    """

    env: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    read: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    listed: tuple[str, ...] = ()
    globs: tuple[str, ...] = ()  # "* PATTERN" or "** PATTERN" (recursive), absolute
    network: tuple[str, ...] = ()
    processes: tuple[str, ...] = ()
    overflow: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KernelReads:
        """The recorder's JSON line, read strictly (ValueError, KeyError, TypeError on anything else)."""
        lists = {name: tuple(str(item) for item in data.get(name, ())) for name in _LISTS}
        return cls(env=tuple(str(name) for name in data["env"]), **lists, overflow=bool(data.get("overflow")))


_LISTS = ("files", "read", "written", "listed", "globs", "network", "processes")


def is_python(kernel_info: dict[str, Any]) -> bool:
    language = kernel_info.get("language_info")
    return isinstance(language, dict) and str(language.get("name", "")).lower() == "python"


async def install_recorder(kernel: KernelLike, limits: CellLimits) -> bool:
    """Start recording in *kernel*; False if that failed."""
    return await _helper(kernel, INSTALL_CODE, limits) is not None


async def collect_reads(kernel: KernelLike, limits: CellLimits) -> KernelReads | None:
    """The reads recorded since :func:`install_recorder`; None if the kernel could not say."""
    printed = await _helper(kernel, REPORT_CODE, limits)
    if printed is None or _MARKER not in printed:
        return None
    line = printed.split(_MARKER, 1)[1].split("\n", 1)[0]
    try:
        return KernelReads.from_json(json.loads(line))
    except (ValueError, KeyError, TypeError):
        return None


async def _helper(kernel: KernelLike, code: str, limits: CellLimits) -> str | None:
    """Run *code* quietly; its stdout, or None when it did not finish without error."""
    scratch: list[NotebookNode] = []
    helper_limits = CellLimits(HELPER_TIMEOUT, None, limits.interrupt_grace, limits.iopub_silence)
    run = await run_cell(
        kernel, code, CellOutputs(scratch, DisplayRegistry()), helper_limits, stop_on_error=False, store_history=False
    )
    if run.reply is None or run.reply.get("status") != "ok":
        return None
    return "".join(
        str(output.get("text", ""))
        for output in scratch
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )
