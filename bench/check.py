"""`nbrun check` beside `pytest --nbval` on the same notebooks, in one interleaved run.

Usage:  python bench/check.py [-n 3] [--notebooks 10] [--cells 20]

Writes a corpus of notebooks (prints, expression results, an object repr with
a memory address, an HTML display), stores their outputs with `nbrun run`,
then times each tool checking them (all must pass: exit 0), round-robin, n
times, and prints medians and ratios to nbval. nbval gets a sanitizer file for
the addresses (nbrun sanitizes them built in). Needs the bench extra (nbval).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CELL_KINDS = (
    "x{i} = {i} * 3\nprint('value', x{i})",
    "[{i}, {i} + 1, 'text']",
    "class Thing{i}: pass\nThing{i}()",
    "from IPython.display import HTML\nHTML('<b>{i}</b>')",
)


def write_corpus(folder: Path, notebooks: int, cells: int) -> list[Path]:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    paths = []
    for number in range(notebooks):
        sources = [CELL_KINDS[i % len(CELL_KINDS)].format(i=i) for i in range(cells)]
        nb = new_notebook(cells=[new_code_cell(source) for source in sources])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = folder / f"nb{number:02d}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    subprocess.run(
        [str(BIN / "nbrun"), "run", "--no-progress", "-j", "2", *map(str, paths)], check=True, capture_output=True
    )
    return paths


def commands(folder: Path, paths: list[Path]) -> dict[str, list[str]]:
    sanitizer = folder / "addresses.cfg"
    sanitizer.write_text("[addresses]\nregex: 0x[0-9a-f]+\nreplace: 0xADDRESS\n")
    nbs = list(map(str, paths))
    return {
        "nbrun check -j 1": [str(BIN / "nbrun"), "check", "--no-progress", *nbs],
        "nbrun check -j 2": [str(BIN / "nbrun"), "check", "--no-progress", "-j", "2", *nbs],
        "pytest --nbval": [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-sanitize-with",
            str(sanitizer),
            *nbs,
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3, help="repetitions per tool (interleaved)")
    parser.add_argument("--notebooks", type=int, default=10)
    parser.add_argument("--cells", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nbrun-bench-check-") as tmp:
        folder = Path(tmp)
        paths = write_corpus(folder, args.notebooks, args.cells)
        tools = commands(folder, paths)
        times: dict[str, list[float]] = {name: [] for name in tools}
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        for _ in range(args.n):
            for name, command in tools.items():
                began = time.perf_counter()
                proc = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env)
                times[name].append(time.perf_counter() - began)
                if proc.returncode != 0:
                    print(
                        f"{name} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}",
                        file=sys.stderr,
                    )
                    return 1
    reference = statistics.median(times["pytest --nbval"])
    print(f"{args.notebooks} notebooks x {args.cells} cells, n={args.n}, load {os.getloadavg()[0]:.1f}")
    print("| tool | median | ratio to nbval |\n|---|---|---|")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"| {name} | {median:.2f} s | {median / reference:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
