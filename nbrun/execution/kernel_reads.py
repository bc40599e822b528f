"""What a Python kernel read, touched and reached during a run (``ExecuteOptions.record_reads``).

Before the first cell, :func:`install_recorder` starts ``reads_recorder`` in
the kernel, with ``recorded_imports`` beside it (compiled once per
interpreter version and kept in the user cache; the sources are sent only
when that copy is missing); after the last
cell, :func:`collect_reads` has it write, into a private file, the
environment variable names read, the files and folders used, the network
and subprocess use, and the imported modules from outside the interpreter.
Both are history-free executes whose outputs are dropped and which define
no user names; the execution counts do not move. Other kernels are skipped
(``None``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from ..kernel.protocol import KernelLike
from ..storage.user_cache import user_cache_dir
from .cell_runner import CellLimits, run_cell
from .outputs import CellOutputs, DisplayRegistry

REPORT_NAME = "kernel_reads"  # the ExecutionResult.reports entry that carries KernelReads
_MODULE = "_nbrun_reads_recorder"
_IMPORTS_MODULE = "_nbrun_recorded_imports"
_MARKER = "nbrun-reads:"
_NEEDS_SOURCE = "nbrun-reads: send the source"
# The kernel's modules, loaded in this order: the recorder is handed the imports module's function.
_SOURCES = tuple(
    (name, (Path(__file__).with_name(file)).read_text(encoding="utf-8"))
    for name, file in ((_IMPORTS_MODULE, "recorded_imports.py"), (_MODULE, "reads_recorder.py"))
)
_DIGEST = hashlib.sha256(repr(_SOURCES).encode()).hexdigest()[:16]
# One expression statement: modules in sys.modules, nothing in the user namespace. The compiled
# modules are kept per interpreter version in the user cache, so the usual install is a short
# request; only when that file is missing or unreadable are the sources sent (SOURCES), compiled
# and the file written. (The 16 KB of source in a request cost the kernel about 4 ms to take in.)
_BOOT = (
    "import sys, types, marshal, os\n"
    f"if {_MODULE!r} not in sys.modules:\n"
    "    compiled = CACHE + sys.implementation.cache_tag + '.marshal'\n"
    "    try:\n"
    "        if SOURCES is None:\n"
    "            with open(compiled, 'rb') as handle:\n"
    "                codes = marshal.loads(handle.read())\n"
    "        else:\n"
    "            codes = tuple((name, compile(text, f'<nbrun {name}>', 'exec')) for name, text in SOURCES)\n"
    "        for name, code in codes:\n"
    "            module = types.ModuleType(name)\n"
    "            exec(code, module.__dict__)\n"
    "            sys.modules[name] = module\n"
    "    except Exception:\n"
    "        if SOURCES is not None:\n"
    "            raise\n"
    "    else:\n"
    "        if SOURCES is not None:\n"
    "            try:\n"
    "                os.makedirs(os.path.dirname(compiled), exist_ok=True)\n"
    "                with open(compiled + f'.{os.getpid()}', 'wb') as handle:\n"
    "                    handle.write(marshal.dumps(codes))\n"
    "                os.replace(compiled + f'.{os.getpid()}', compiled)\n"
    "            except OSError:\n"
    "                pass\n"
    f"if {_MODULE!r} in sys.modules:\n"
    f"    sys.modules[{_MODULE!r}].install(sys.modules[{_IMPORTS_MODULE!r}].module_files)\n"
    "else:\n"
    f"    sys.stdout.write({_NEEDS_SOURCE + chr(10)!r})\n"
)
_REPORT = "__import__('sys').modules[{module!r}].report({marker!r}, {path!r})"
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


def install_code(with_source: bool) -> str:
    """The silent execute that starts recording: from the compiled modules in the user cache, or from source."""
    cache = str(user_cache_dir() / "recorder" / f"reads_recorder-{_DIGEST}-")
    sources = _SOURCES if with_source else None
    return f"exec({_BOOT!r}, {{'SOURCES': {sources!r}, 'CACHE': {cache!r}}})"


async def install_recorder(kernel: KernelLike, limits: CellLimits) -> bool:
    """Start recording in *kernel*; False if that failed."""
    printed = await _helper(kernel, install_code(with_source=False), limits)
    if printed is not None and _NEEDS_SOURCE in printed:
        printed = await _helper(kernel, install_code(with_source=True), limits)
    return printed is not None and _NEEDS_SOURCE not in printed


async def collect_reads(kernel: KernelLike, limits: CellLimits) -> KernelReads | None:
    """The reads recorded since :func:`install_recorder`; None if the kernel could not say.

    The kernel writes them into a private file made here; a kernel that
    cannot reach it (in a container of its own) is asked again to print them.
    """
    handle, name = tempfile.mkstemp(prefix="nbrun-reads-", suffix=".json")
    try:
        with os.fdopen(handle, "rb") as written:
            printed = await _helper(kernel, _REPORT.format(module=_MODULE, marker=_MARKER, path=name), limits)
            text = written.read().decode("utf-8", "replace")
        if printed is not None and not text and _MARKER not in printed:
            printed = await _helper(kernel, _REPORT.format(module=_MODULE, marker=_MARKER, path=None), limits)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
    if printed is None:
        return None
    if not text:
        if _MARKER not in printed:
            return None
        text = printed.split(_MARKER, 1)[1].split("\n", 1)[0]
    try:
        return KernelReads.from_json(json.loads(text))
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
