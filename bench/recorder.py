"""What recording a run's reads costs (issue 23): the kernel's audit-hook recorder, on and off.

    python bench/recorder.py            # n=5 interleaved repeats
    python bench/recorder.py -n 3

Two notebooks: the 500-cell case of the corpus (``x = i`` per cell) and one
whose cell opens and reads 10,000 small files. Per repeat, interleaved:

- ``execute`` in one process through the API, ``record_reads`` off, then on:
  the recorder alone (installing it, the hook on every event, the report);
- ``nbrun run`` without a cache, then ``nbrun run --cache`` into a fresh cache
  folder (the recorder on, and the entry stored: every file read is
  stat'ed and hashed);
- ``jupyter execute`` on the same notebook, as the peer's reference.

Medians; the ratio is recorder-on / recorder-off. "Cells alone" sums the
cells' own durations (what the hook costs while the notebook runs, without
the kernel's start and the recorder's install and report).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import notebook, single_sources

from tools import command_seconds, exe

FILES = 10_000
CELL_SECONDS: dict[tuple[str, bool], list[float]] = {}  # the cells' own durations, summed, per run of execute
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def write_cases(root: Path) -> dict[str, Path]:
    data = root / "files"
    data.mkdir()
    for number in range(FILES):
        (data / f"f{number:05d}.txt").write_text(f"{number}\n")
    cases = {
        "500 cells": notebook(single_sources("many_cells")),
        "opens 10,000 files": notebook(
            [
                f"total = 0\nfor n in range({FILES}):\n    with open(f'files/f{{n:05d}}.txt') as f:\n        total += len(f.read())\ntotal"
            ]
        ),
    }
    paths = {}
    for name, nb in cases.items():
        path = root / (name.replace(" ", "_").replace(",", "") + ".ipynb")
        nbformat.write(nb, path)
        paths[name] = path
    return paths


def api_seconds(path: Path, record: bool) -> float:
    """Wall time of ``nbrun.execute`` (kernel start to stop) with the recorder on or off, in a fresh process."""
    code = (
        "import sys, time, nbformat\n"
        "from nbrun import ExecuteOptions, execute\n"
        "nb = nbformat.read(sys.argv[1], 4)\n"
        "began = time.perf_counter()\n"
        f"result = execute(nb, ExecuteOptions(record_reads={record}, cwd=sys.argv[2]))\n"
        "assert result.status.value == 'ok', result.message\n"
        "print(time.perf_counter() - began, sum(cell.duration or 0 for cell in result.cells))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path), str(path.parent)], capture_output=True, text=True, env=ENV, check=True
    )
    wall, cells = proc.stdout.strip().splitlines()[-1].split()
    CELL_SECONDS.setdefault((path.name, record), []).append(float(cells))
    return float(wall)


def run_seconds(command: list[str]) -> float:
    return command_seconds(command, ENV)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="repeats (interleaved)")
    args = parser.parse_args()
    nbrun, jupyter = exe("nbrun") or "nbrun", exe("jupyter")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cases = write_cases(root)
        figures: dict[tuple[str, str], list[float]] = {}
        for repeat in range(args.n):
            for name, path in cases.items():
                out, cache = root / "out.ipynb", root / f"c{repeat}"
                plain = [nbrun, "run", "--no-progress", str(path), "-o", str(out)]
                rows = {
                    "execute, recorder off": (api_seconds, (path, False)),
                    "execute, recorder on": (api_seconds, (path, True)),
                    "nbrun run, no cache": (run_seconds, (plain,)),
                    "nbrun run --cache, cold (records and stores)": (
                        run_seconds,
                        ([*plain, "--cache", str(cache)],),
                    ),
                }
                if jupyter:
                    rows["jupyter execute"] = (
                        run_seconds,
                        ([jupyter, "execute", str(path), "--output", str(out)],),
                    )
                for row, (measure, arguments) in rows.items():
                    figures.setdefault((name, row), []).append(measure(*arguments))  # type: ignore[operator]
                shutil.rmtree(cache, ignore_errors=True)
        load = os.getloadavg()[0]
        print(f"# Recorder overhead (n={args.n}, medians, load average {load:.1f})\n")
        for name in cases:
            print(f"## {name}\n\n| run | median | vs recorder off |\n|---|---|---|")
            off = statistics.median(figures[(name, "execute, recorder off")])
            plain = statistics.median(figures[(name, "nbrun run, no cache")])
            for (case, row), values in figures.items():
                if case != name:
                    continue
                median = statistics.median(values)
                base = plain if row.startswith("nbrun run") or row == "jupyter execute" else off
                print(f"| {row} | {median:.3f} s | {median / base:.3f} |")
            cells_off, cells_on = (statistics.median(CELL_SECONDS[(cases[name].name, on)]) for on in (False, True))
            print(
                f"| cells alone (execute), off -> on | {cells_off:.3f} s -> {cells_on:.3f} s | {cells_on / cells_off:.3f} |"
            )
            print()


if __name__ == "__main__":
    main()
