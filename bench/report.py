"""Statistics and the Markdown report (medians with min–max, ratios vs jupyter execute)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from checks import Check
from corpus import MANY_CELLS
from measure import Measurement

from tools import Tool

DESCRIPTIONS = {
    "tiny": "1 cell `x = 1`: fixed cost per notebook (start-up, kernel boot, shutdown, write)",
    "many_cells": f"{MANY_CELLS} cells `x = i`: per-cell overhead",
    "sleep": "5 × `time.sleep(0.2)`: overhead = wall − 1.0 s",
    "streams_lines": "200,000 printed lines: stream handling",
    "streams_write": "one `sys.stdout.write('x' * 50_000_000)`: memory for a large output",
    "plots": "20 inline matplotlib figures of 1000 points: image outputs (kernel-bound)",
    "batch": "N notebooks × 5 small cells: throughput",
    "fd_flood": "300 MB on the kernel's fd 2 (issue 12 probe): memory for the kernel log",
    "big_png": "one 147 MB `image/png` (issue 12 probe): memory for an over-cap payload",
    "display_updates": "20 display ids updated with 5 MB each (issue 12 probe): the output cap on updates",
}
STREAMS = ("streams_lines", "streams_write")
MIB = 2**20


@dataclass
class Row:
    tool: Tool
    runs: list[Measurement] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def med(self, attr: str) -> float:
        return float(statistics.median(float(getattr(m, attr)) for m in self.runs))

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def status(self) -> str:
        if self.failed:
            return "**FAILED**: " + self.failures[0]
        notes = sorted({c.detail for c in self.checks if c.detail})
        leftovers = sum(m.leftovers for m in self.runs)
        if leftovers:
            notes.append(f"{leftovers} process(es) still alive after exit")
        return "ok" + (f" ({'; '.join(notes)})" if notes else "")


@dataclass
class RawLoop:
    ms_per_cell: list[float] = field(default_factory=list)
    kernel_cpu_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def spread(values: list[float], digits: int) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def ratio(num: float, den: float) -> str:
    return f"{num / den:.2f}×" if den > 0 else "–"


def reference(rows: list[Row]) -> Row | None:
    return next((r for r in rows if r.tool.reference and r.runs), None)


def table(header: list[str], lines: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(cells) + " |" for cells in lines]


def case_table(case: str, rows: list[Row]) -> list[str]:
    ref = reference(rows)
    header = [
        "tool",
        "wall s",
        "cpu s",
        "peak MiB",
        "executor peak MiB",
        "kernel peak MiB",
        "speed-up vs jupyter execute",
    ]
    if case in STREAMS:
        header += ["kept output MiB", "executor peak / kept"]
    lines = []
    for r in rows:
        if not r.runs:
            continue
        cells = [
            f"`{r.tool.label}`" + (" **FAILED**" if r.failed else ""),
            spread([m.wall for m in r.runs], 3),
            spread([m.cpu for m in r.runs], 3),
            spread([m.peak_mib for m in r.runs], 1),
            spread([m.executor_peak_mib for m in r.runs], 1),
            spread([m.kernel_peak_mib for m in r.runs], 1),
            ratio(ref.med("wall"), r.med("wall")) if ref else "–",
        ]
        if case in STREAMS:
            kept = statistics.median(c.kept_bytes for c in r.checks) / MIB if r.checks else 0.0
            cells += [f"{kept:.1f}", ratio(r.med("executor_peak_mib"), kept) if kept >= 1 else "–"]
        lines.append(cells)
    return table(header, lines)


def batch_table(rows: list[Row], size: int) -> list[str]:
    ref = reference(rows)
    header = ["method", "wall s", "cpu s", "peak MiB", "notebooks/s", "speed-up vs jupyter execute loop"]
    lines = [
        [
            f"`{r.tool.label}`" + (" **FAILED**" if r.failed else ""),
            spread([m.wall for m in r.runs], 2),
            spread([m.cpu for m in r.runs], 2),
            spread([m.peak_mib for m in r.runs], 1),
            f"{size / r.med('wall'):.2f}",
            ratio(ref.med("wall"), r.med("wall")) if ref else "–",
        ]
        for r in rows
        if r.runs
    ]
    return table(header, lines)


def per_cell_ms(results: dict[str, list[Row]], stat: str = "median") -> dict[str, float]:
    """Tool key -> (many_cells wall − tiny wall) / (cells − 1) in ms, from medians or minima."""

    def wall(r: Row) -> float:
        return r.med("wall") if stat == "median" else min(m.wall for m in r.runs)

    tiny = {r.tool.key: r for r in results.get("tiny", []) if r.runs}
    many = {r.tool.key: r for r in results.get("many_cells", []) if r.runs}
    return {k: (wall(many[k]) - wall(tiny[k])) / (MANY_CELLS - 1) * 1000 for k in many if k in tiny}


def per_cell_table(results: dict[str, list[Row]], raw: RawLoop) -> list[str]:
    labels = {r.tool.key: r.tool.label for r in results.get("many_cells", [])}
    floor = statistics.median(raw.ms_per_cell) if raw.ms_per_cell else 0.0
    floor_min = min(raw.ms_per_cell) if raw.ms_per_cell else 0.0
    lines = []
    if raw.ms_per_cell:
        lines.append(
            [
                "raw jupyter_client loop (bench/raw_loop.py)",
                spread(raw.ms_per_cell, 2),
                "1.00×",
                f"{floor_min:.2f}",
                "1.00×",
            ]
        )
    minima = per_cell_ms(results, "min")
    for key, ms in per_cell_ms(results).items():
        lines.append(
            [
                f"`{labels[key]}`",
                f"{ms:.2f}",
                ratio(ms, floor) if floor else "–",
                f"{minima[key]:.2f}",
                ratio(minima[key], floor_min) if floor_min else "–",
            ]
        )
    out = table(
        [
            "executor",
            f"ms per cell = (many_cells − tiny) / {MANY_CELLS - 1}, medians",
            "× raw loop",
            "same from minima",
            "× raw loop (minima)",
        ],
        lines,
    )
    out.append("\nMinima are less sensitive to one slow run (e.g. a kernel that hangs at shutdown).")
    if raw.kernel_cpu_ms:
        out.append(f"Raw loop kernel CPU: {spread(raw.kernel_cpu_ms, 2)} ms per cell.")
    return out


Target = tuple[str, str, bool]


def targets(results: dict[str, list[Row]], raw: RawLoop) -> list[Target]:
    """(target, measured, met) for every target whose rows were run."""

    def rows(case: str) -> dict[str, Row]:
        return {r.tool.key: r for r in results.get(case, []) if r.runs}

    out: list[Target] = []
    b = rows("batch")
    for key, goal in (("nbrun_j2", 8.0), ("nbrun_j1", 3.0)):
        if key in b and "jupyter_loop" in b:
            x = b["jupyter_loop"].med("wall") / b[key].med("wall")
            out.append(
                (
                    f"batch: `{b[key].tool.label}` ≥ {goal:g}× faster than the jupyter execute loop",
                    f"{x:.2f}×",
                    x >= goal and not b[key].failed,
                )
            )
    t = rows("tiny")
    if "nbrun" in t and "jupyter" in t:
        x = t["nbrun"].med("wall") / t["jupyter"].med("wall")
        out.append(("tiny: nbrun ≤ 0.5 × jupyter execute wall", f"{x:.2f}×", x <= 0.5))
    cell = per_cell_ms(results)
    if "nbrun" in cell and raw.ms_per_cell:
        x = cell["nbrun"] / statistics.median(raw.ms_per_cell)
        out.append(("500 cells: nbrun per-cell ≤ 1.1 × raw loop", f"{x:.2f}×", x <= 1.1))
    for case in STREAMS:
        s = rows(case)
        for key in ("nbrun", "nbrun_keep_all"):
            if key not in s:
                continue
            r = s[key]
            kept = statistics.median(c.kept_bytes for c in r.checks) / MIB if r.checks else 0.0
            if case == "streams_write":  # streams_lines keeps ~1 MiB: below any Python's baseline
                x = r.med("executor_peak_mib") / kept if kept else float("inf")
                out.append(
                    (
                        f"{case}: `{r.tool.label}` executor peak ≤ 2 × output kept ({kept:.1f} MiB)",
                        f"{r.med('executor_peak_mib'):.1f} MiB = {x:.2f}×",
                        x <= 2.0 and not r.failed,
                    )
                )
            if "jupyter" in s:
                y = r.med("wall") / s["jupyter"].med("wall")
                out.append(
                    (
                        f"{case}: `{r.tool.label}` no slower than jupyter execute",
                        f"{y:.2f}× its wall",
                        y <= 1.0 and not r.failed,
                    )
                )
    return out


def render(header: list[str], results: dict[str, list[Row]], raw: RawLoop, batch_size: int) -> str:
    md = list(header)
    md += ["", "## Targets (from the issue)", ""]
    md += table(
        ["target", "measured (medians)", "met"],
        [[t, m, "yes" if ok else "**no**"] for t, m, ok in targets(results, raw)],
    )
    for case, rows in results.items():
        if case == "batch":
            md += ["", f"## batch — {batch_size} notebooks × 5 small cells", ""] + batch_table(rows, batch_size)
        else:
            md += ["", f"## {case} — {DESCRIPTIONS[case]}", ""] + case_table(case, rows)
        md += [f"\n- `{r.tool.label}`: {r.status}" for r in rows if r.status != "ok"]
    if "many_cells" in results:
        md += ["", "## Per-cell overhead", ""] + per_cell_table(results, raw)
        md += [f"\n- raw loop **FAILED**: {f}" for f in raw.failures]
    return "\n".join(md) + "\n"
