"""The command lines compared, per case. Every tool writes ``OUTDIR/<input name>``.

Executables are taken from the directory of the running Python (the venv where nbrun
is installed), else from PATH; spawned commands get that directory first on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
KEEP_ALL_BYTES = 100_000_000  # > the 50 MB of streams_write


def command_seconds(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one command, spawn to exit; a failure stops the benchmark with its stderr."""
    began = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - began


def exe(name: str) -> str | None:
    local = BIN / name
    if local.exists():
        return str(local)
    return shutil.which(name)


Builder = Callable[[list[Path], Path], list[str]]


@dataclass(frozen=True)
class Tool:
    key: str
    label: str
    needs: str  # executable that must exist, else the row is skipped
    build: Builder
    reference: bool = False  # the row ratios are computed against


def jx_output(out: Path) -> str:
    # nbclient joins this to the input's folder; an absolute path wins.
    return f"--output={out}/{{notebook_name}}"


def nbrun(*extra: str) -> Builder:
    return lambda nbs, out: [
        exe("nbrun") or "nbrun",
        "run",
        "--no-progress",
        *extra,
        "--output-dir",
        str(out),
        *map(str, nbs),
    ]


def jupyter_execute(nbs: list[Path], out: Path) -> list[str]:
    return [exe("jupyter") or "jupyter", "execute", jx_output(out), *map(str, nbs)]


def papermill(*extra: str) -> Builder:
    return lambda nbs, out: [exe("papermill") or "papermill", *extra, str(nbs[0]), str(out / nbs[0].name)]


def shell(script: str) -> Builder:
    """``sh -c SCRIPT sh OUTDIR NB...``: the script sees the output dir as $1, notebooks after."""
    return lambda nbs, out: ["sh", "-c", script, "sh", str(out), *map(str, nbs)]


JX_LOOP = (
    'out=$1; shift; rc=0; for f in "$@"; do '
    'jupyter execute "--output=$out/{notebook_name}" "$f" || rc=1; done; exit $rc'
)
PM_LOOP = (
    'out=$1; shift; rc=0; for f in "$@"; do '
    'papermill --no-progress-bar "$f" "$out/$(basename "$f")" || rc=1; done; exit $rc'
)


def xargs_p2(nbs: list[Path], out: Path) -> list[str]:
    half = (len(nbs) + 1) // 2  # two jupyter processes, each running half the batch serially
    script = (
        'out=$1; shift; printf "%s\\0" "$@" | '
        f'xargs -0 -P 2 -n {half} jupyter execute "--output=$out/{{notebook_name}}"'
    )
    return shell(script)(nbs, out)


SINGLE: list[Tool] = [
    Tool("nbrun", "nbrun run", "nbrun", nbrun()),
    Tool("jupyter", "jupyter execute", "jupyter", jupyter_execute, reference=True),
    Tool("papermill", "papermill (defaults)", "papermill", papermill()),
    Tool(
        "papermill_nosave",
        "papermill --no-request-save-on-cell-execute --no-progress-bar",
        "papermill",
        papermill("--no-request-save-on-cell-execute", "--no-progress-bar"),
    ),
]

# streams_write is over nbrun's default per-cell output limit (10 MiB): also run it keeping all.
NBRUN_KEEP_ALL = Tool(
    "nbrun_keep_all",
    f"nbrun run --max-output-bytes {KEEP_ALL_BYTES}",
    "nbrun",
    nbrun("--max-output-bytes", str(KEEP_ALL_BYTES)),
)

BATCH: list[Tool] = [
    Tool("nbrun_j1", "nbrun run -j 1 (one process)", "nbrun", nbrun("-j", "1")),
    Tool("nbrun_j2", "nbrun run -j 2 (one process)", "nbrun", nbrun("-j", "2")),
    Tool("jupyter_loop", "jupyter execute, shell loop (one process each)", "jupyter", shell(JX_LOOP), reference=True),
    Tool("jupyter_multi", "jupyter execute nb01 … nbNN (one process)", "jupyter", jupyter_execute),
    Tool("jupyter_xargs", "xargs -P 2 jupyter execute (two processes, half each)", "jupyter", xargs_p2),
    Tool("papermill_loop", "papermill --no-progress-bar, shell loop", "papermill", shell(PM_LOOP)),
]


def tools_for(case: str) -> list[Tool]:
    """The rows of ``case`` whose executable is installed."""
    if case == "batch":
        rows = BATCH
    elif case == "streams_write":
        rows = [SINGLE[0], NBRUN_KEEP_ALL, *SINGLE[1:]]
    else:
        rows = SINGLE
    return [t for t in rows if exe(t.needs)]


def missing_tools() -> list[str]:
    return sorted({t.needs for t in [*SINGLE, *BATCH] if not exe(t.needs)})
