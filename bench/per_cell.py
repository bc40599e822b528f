"""Per-cell cost, side by side in one process: the raw jupyter_client loop, nbrun and nbclient.

Each tool runs a notebook of ``x = i`` cells twice, short (--base cells) and long
(--base + --cells); the difference divided by --cells is its cost per cell, with
kernel start, the first cells and shutdown cancelled out. Two figures per tool:
wall milliseconds per cell and this process's own CPU milliseconds per cell (the
executor's work, which a loaded machine disturbs far less than the wall clock).
The raw loop (``raw_loop.run_cell`` on one BlockingKernelClient) is the floor.
Repeats are interleaved, tool order rotated; medians. ``--profile FILE`` writes
a cProfile of one long nbrun run (read it with ``python -m pstats FILE``).

Usage:  python bench/per_cell.py [-n 3] [--cells 500] [--profile /tmp/nbrun.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raw_loop import ready_kernel, run_cell

Measure = Callable[[int], tuple[float, float]]  # cells -> (wall s, process CPU s)


def notebook(cells: int) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(f"x = {i}") for i in range(cells)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def timed(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def raw(cells: int) -> tuple[float, float]:
    def work() -> None:
        with ready_kernel() as (_, client):
            for i in range(cells):
                run_cell(client, f"x = {i}")

    return timed(work)


def nbrun_run(cells: int) -> tuple[float, float]:
    from nbrun.api import execute

    nb = notebook(cells)
    return timed(lambda: execute(nb).raise_for_status())


def nbclient_run(cells: int) -> tuple[float, float]:
    from nbclient import NotebookClient

    nb = notebook(cells)
    return timed(lambda: NotebookClient(nb, kernel_name="python3").execute())


TOOLS: dict[str, Measure] = {
    "raw jupyter_client loop": raw,
    "nbrun": nbrun_run,
    "nbclient (jupyter execute)": nbclient_run,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repeats", type=int, default=3)
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--base", type=int, default=20)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    wall: dict[str, list[float]] = {name: [] for name in TOOLS}
    cpu: dict[str, list[float]] = {name: [] for name in TOOLS}
    for measure in TOOLS.values():  # warm-up: imports, page cache
        measure(args.base)
    for repeat in range(args.repeats):
        names = list(TOOLS)
        names = names[repeat % len(names) :] + names[: repeat % len(names)]
        for name in names:
            short = TOOLS[name](args.base)
            long = TOOLS[name](args.base + args.cells)
            wall[name].append((long[0] - short[0]) / args.cells * 1000)
            cpu[name].append((long[1] - short[1]) / args.cells * 1000)
    floor_wall = statistics.median(wall["raw jupyter_client loop"])
    floor_cpu = statistics.median(cpu["raw jupyter_client loop"])
    print(f"{args.cells} trivial cells (x = i), n={args.repeats}, medians; per cell, this process only for CPU\n")
    print("| tool | wall ms/cell | vs raw | CPU ms/cell | vs raw | wall runs |")
    print("|---|---:|---:|---:|---:|---|")
    for name in TOOLS:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        runs = ", ".join(f"{value:.3f}" for value in wall[name])
        print(f"| {name} | {w:.3f} | {w / floor_wall:.2f}x | {c:.3f} | {c / floor_cpu:.2f}x | {runs} |")
    if args.profile is not None:
        profiler = cProfile.Profile()
        profiler.runcall(nbrun_run, args.base + args.cells)
        profiler.dump_stats(args.profile)
        print(f"\nprofile of one nbrun run of {args.base + args.cells} cells: {args.profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
