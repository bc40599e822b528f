"""What redacting secrets costs (issue 25): ``nbrun run`` with and without ``--secret``, beside ``jupyter execute``.

    python bench/secrets.py            # n=5 interleaved repeats
    python bench/secrets.py -n 3

Three notebooks: the corpus's 500 trivial cells (the per-message cost), a
cell that prints 20 MB of text in 4 KB chunks (stream hold-back and the
pattern on every chunk), and 50 PNG plots (the pattern over base64 payloads).
Per repeat, interleaved: ``nbrun run`` plain, ``nbrun run --secret`` (two
secrets, so each pattern holds about forty forms) and ``jupyter execute``.
Medians; the ratio is with secrets / without.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import notebook, single_sources

from tools import command_seconds, exe

SECRETS = {"DB_PASSWORD": "correct-horse-battery-staple", "API_TOKEN": "tok_9f8e7d6c5b4a39281706"}
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, **SECRETS}
CASES = {
    "500 cells": single_sources("many_cells"),
    "20 MB of text": ["import sys\nline = 'x' * 4095 + '\\n'\nfor _ in range(5000):\n    sys.stdout.write(line)"],
    "50 plots": [
        "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\nimport matplotlib.pyplot as plt",
        "for n in range(50):\n    plt.plot(range(n + 2))\n    plt.show()",
    ],
}


def seconds(command: list[str]) -> float:
    return command_seconds(command, ENV)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="repeats (interleaved)")
    args = parser.parse_args()
    nbrun, jupyter = exe("nbrun") or "nbrun", exe("jupyter")
    figures: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for repeat in range(args.n):
            for name, sources in CASES.items():
                path = root / (name.replace(" ", "_") + ".ipynb")
                if repeat == 0:
                    nbformat.write(notebook(sources), path)
                out = str(root / "out.ipynb")
                plain = [nbrun, "run", "--no-progress", str(path), "-o", out, "--max-output-bytes", "64M"]
                rows = {
                    "nbrun run": plain,
                    "nbrun run --secret x2": [*plain, "--secret", "DB_PASSWORD", "--secret", "API_TOKEN"],
                }
                if jupyter:
                    rows["jupyter execute"] = [jupyter, "execute", str(path), "--output", out]
                for row, command in rows.items():
                    figures.setdefault((name, row), []).append(seconds(command))
    load = os.getloadavg()[0]
    print(f"# Redaction overhead (n={args.n}, medians, load average {load:.1f})\n")
    for name in CASES:
        base = statistics.median(figures[(name, "nbrun run")])
        print(f"## {name}\n\n| run | median | vs nbrun run |\n|---|---|---|")
        for (case, row), values in figures.items():
            if case == name:
                median = statistics.median(values)
                print(f"| {row} | {median:.3f} s | {median / base:.3f} |")
        print()


if __name__ == "__main__":
    main()
