"""Benchmark: a batch as pytest tests, `pytest --nbrun --nbrun-jobs 2` and `-n 2` vs `pytest --nbmake -n 2` vs `nbrun run -j 2`.

Usage:  python bench/pytest_plugin.py [-n REPEATS] [--batch-size N] [--workers W]

Needs `pip install -e '.[bench]'` (pytest-xdist, nbmake). Repeats are interleaved
with the tool order rotated per repeat (machine drift hits every tool alike),
after one unmeasured warm-up of each tool. Wall time is spawn to exit of the
whole command (interpreter start, collection, xdist workers included); the
"fixed cost" row is the same pytest command selecting no test. Both
pytest rows run with the same flags (no cache provider, hypothesis's plugin
blocked) in a folder whose own pytest.ini pins the rootdir. Prints medians and
ratios; exit 1 if a run failed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
NOTHING = "no_such_test"  # workers and templates start, collect, run nothing (pytest exit code 5)
PYTEST_FLAGS = ["-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:randomly"]


def commands(corpus: Path, out: Path, workers: int) -> dict[str, list[str]]:
    python = sys.executable
    return {
        f"pytest --nbrun --nbrun-jobs {workers}": [
            python,
            "-m",
            "pytest",
            "--nbrun",
            "--nbrun-jobs",
            str(workers),
            "-p",
            "no:nbmake",
            "-p",
            "no:xdist",
            *PYTEST_FLAGS,
        ],
        f"pytest --nbrun -n {workers}": [
            python,
            "-m",
            "pytest",
            "--nbrun",
            "-n",
            str(workers),
            "-p",
            "no:nbmake",
            *PYTEST_FLAGS,
        ],
        f"pytest --nbmake -n {workers}": [
            python,
            "-m",
            "pytest",
            "--nbmake",
            "-n",
            str(workers),
            "-p",
            "no:nbrun",
            *PYTEST_FLAGS,
        ],
        f"pytest --nbrun -n {workers} -k {NOTHING} (fixed cost)": [
            python,
            "-m",
            "pytest",
            "--nbrun",
            "-n",
            str(workers),
            "-k",
            NOTHING,
            "-p",
            "no:nbmake",
            *PYTEST_FLAGS,
        ],
        f"nbrun run -j {workers}": [
            str(BIN / "nbrun"),
            "run",
            "-j",
            str(workers),
            "--no-progress",
            "--output-dir",
            str(out),
            *sorted(str(p) for p in corpus.glob("*.ipynb")),
        ],
    }


def timed(command: list[str], cwd: Path) -> tuple[float, bool, str]:
    began = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    ok = proc.returncode == 0 or (proc.returncode == 5 and NOTHING in command)
    return time.perf_counter() - began, ok, (proc.stdout + proc.stderr)[-2000:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nbrun-bench-pytest-"))
    try:
        subprocess.run(
            [
                sys.executable,
                str(HERE / "corpus.py"),
                str(work),
                "--cases",
                "batch",
                "--batch-size",
                str(args.batch_size),
            ],
            check=True,
        )
        corpus = work / "batch"
        (corpus / "pytest.ini").write_text("[pytest]\n")
        rows = commands(corpus, work / "out", args.workers)
        times: dict[str, list[float]] = {name: [] for name in rows}
        failed = False
        for command in rows.values():  # warm-up (page cache, compiled bytecode)
            timed(command, corpus)
        for repeat in range(args.repeats):
            names = list(rows)
            names = names[repeat % len(names) :] + names[: repeat % len(names)]
            for name in names:
                seconds, ok, tail = timed(rows[name], corpus)
                times[name].append(seconds)
                if not ok:
                    failed = True
                    print(f"FAILED: {name}\n{tail}", file=sys.stderr)
        report(times, args)
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(times: dict[str, list[float]], args: argparse.Namespace) -> None:
    names = list(times)
    medians = {name: statistics.median(values) for name, values in times.items()}
    jobs, nbrun_pytest, nbmake, _, nbrun_run = names
    print(
        f"batch of {args.batch_size} notebooks x 5 cells, {args.workers} workers or jobs, n={args.repeats} "
        f"(median wall seconds, all runs in brackets)\n"
    )
    print("| command | median s | runs | vs pytest --nbmake |")
    print("|---|---:|---|---:|")
    for name in names:
        runs = ", ".join(f"{value:.2f}" for value in times[name])
        print(f"| `{name}` | {medians[name]:.2f} | {runs} | {medians[nbmake] / medians[name]:.2f}x faster |")
    for name in (jobs, nbrun_pytest):
        print(
            f"\n`{name}` is {medians[nbmake] / medians[name]:.1f}x faster than `{nbmake}` "
            f"and takes {medians[name] / medians[nbrun_run]:.2f}x the time of `{nbrun_run}`."
        )


if __name__ == "__main__":
    sys.exit(main())
