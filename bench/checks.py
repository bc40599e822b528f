"""Correctness checks of executed notebooks, one function per case.

Each check reads the written notebook with ``json`` (not nbformat: faster on 50 MB
files) and returns a ``Check``. run.py calls ``python bench/checks.py CASE FILE...``
(JSON on stdout) in a child process, so loading a 50 MB notebook never grows the runner.
A check fails on a missing file, any ``error`` output, wrong execution counts, or output
that differs from what the case's code must print.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus import MANY_CELLS, PLOTS, SLEEPS, STREAM_LINES, STREAM_WRITE_CHARS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NBRUN_TRUNCATION_MARK = "[nbrun] output truncated"

Notebook = dict[str, Any]


@dataclass
class Check:
    ok: bool
    detail: str = ""
    kept_bytes: int = 0  # bytes of output text/data kept in the written notebook(s)


def text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def code_cells(nb: Notebook) -> list[dict[str, Any]]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def stream(cell: dict[str, Any], name: str) -> str:
    return "".join(text(o["text"]) for o in cell["outputs"] if o["output_type"] == "stream" and o["name"] == name)


def kept_bytes(nb: Notebook) -> int:
    total = 0
    for cell in code_cells(nb):
        for out in cell["outputs"]:
            if "text" in out:
                total += len(text(out["text"]))
            for value in out.get("data", {}).values():
                total += len(value) if isinstance(value, (str, list)) else 0
    return total


def common(nb: Notebook, cells: int) -> str | None:
    """The checks every case shares: cell count, counts 1..n, no error output."""
    cc = code_cells(nb)
    if len(cc) != cells:
        return f"{len(cc)} code cells, expected {cells}"
    for cell in cc:
        for out in cell["outputs"]:
            if out["output_type"] == "error":
                return f"error output: {out.get('ename')}: {out.get('evalue')}"
    counts = [c.get("execution_count") for c in cc]
    if counts != list(range(1, cells + 1)):
        bad = next(i for i, c in enumerate(counts) if c != i + 1)
        return f"execution_count of cell {bad} is {counts[bad]!r}, expected {bad + 1}"
    return None


def check_streams_lines(nb: Notebook) -> Check:
    out = stream(code_cells(nb)[0], "stdout")
    lines = out.split("\n")
    if lines[-1] == "":
        lines.pop()
    if len(lines) != STREAM_LINES:
        return Check(False, f"{len(lines):,} lines, expected {STREAM_LINES:,}")
    if out != "".join(f"{i}\n" for i in range(STREAM_LINES)):
        bad = next(i for i, line in enumerate(lines) if line != str(i))
        return Check(False, f"line {bad} is {lines[bad][:40]!r}: lines missing or out of order")
    return Check(True)


def check_streams_write(nb: Notebook) -> Check:
    cell = code_cells(nb)[0]
    out = stream(cell, "stdout")
    if out == "x" * STREAM_WRITE_CHARS:
        return Check(True)
    if out.strip("x") or not out:
        return Check(False, f"stdout is not {STREAM_WRITE_CHARS:,} 'x' ({len(out):,} chars, other characters)")
    if NBRUN_TRUNCATION_MARK in stream(cell, "stderr"):  # nbrun's documented --max-output-bytes limit
        kept = f"kept {len(out) / 2**20:.1f} MiB of {STREAM_WRITE_CHARS / 1e6:.0f} MB"
        return Check(True, f"truncated by design: {kept}, marker present")
    return Check(False, f"only {len(out):,} of {STREAM_WRITE_CHARS:,} characters, no truncation marker")


def check_plots(nb: Notebook) -> Check:
    for i, cell in enumerate(code_cells(nb)):
        pngs = [o["data"]["image/png"] for o in cell["outputs"] if "image/png" in o.get("data", {})]
        if len(pngs) != 1:
            return Check(False, f"cell {i} has {len(pngs)} PNG outputs, expected 1")
        if not base64.b64decode(text(pngs[0])).startswith(PNG_MAGIC):
            return Check(False, f"cell {i}: image/png is not a PNG")
    return Check(True)


def check_batch_one(nb: Notebook, n: int) -> str | None:
    problem = common(nb, 5)
    if problem:
        return problem
    cc = code_cells(nb)
    a = n + 3
    if stream(cc[1], "stdout") != f"notebook {a} {a * 7}\n":
        return f"cell 1 printed {stream(cc[1], 'stdout')[:60]!r}"
    results = [o for o in cc[4]["outputs"] if o["output_type"] == "execute_result"]
    want = f"({332833500}, {3 * a})"
    if len(results) != 1 or text(results[0]["data"]["text/plain"]) != want:
        return f"cell 4 result is not {want}"
    return None


CELLS = {
    "tiny": 1,
    "many_cells": MANY_CELLS,
    "sleep": SLEEPS,
    "streams_lines": 1,
    "streams_write": 1,
    "plots": PLOTS,
    "fd_flood": 1,
    "big_png": 1,
    "display_updates": 1,
}
SPECIFIC = {"streams_lines": check_streams_lines, "streams_write": check_streams_write, "plots": check_plots}


def load(path: Path) -> Notebook | None:
    try:
        with open(path, encoding="utf-8") as f:
            nb: Notebook = json.load(f)
        return nb
    except (OSError, ValueError):
        return None


def check_case(case: str, outputs: list[Path]) -> Check:
    """Check every written notebook of ``case`` (one, or the whole batch in order nb01..)."""
    kept = 0
    for n, path in enumerate(outputs, start=1):
        nb = load(path)
        if nb is None:
            return Check(False, f"{path.name}: missing or not JSON")
        kept += kept_bytes(nb)
        if case == "batch":
            problem = check_batch_one(nb, n)
            if problem:
                return Check(False, f"{path.name}: {problem}")
            continue
        problem = common(nb, CELLS[case])
        if problem:
            return Check(False, problem)
        if case in SPECIFIC:
            result = SPECIFIC[case](nb)
            result.kept_bytes = kept
            return result
    return Check(True, kept_bytes=kept)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python bench/checks.py CASE EXECUTED_NOTEBOOK...")
    print(json.dumps(dataclasses.asdict(check_case(sys.argv[1], [Path(p) for p in sys.argv[2:]]))))
