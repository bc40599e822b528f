"""What the kernel daemon saves (issue 30, item 3): ``nbrun run --daemon`` beside ``nbrun run`` and ``jupyter execute``.

    python bench/daemon.py            # n=5 interleaved repeats, batch of 40
    python bench/daemon.py -n 3 --batch-size 40 --out bench/results/daemon.md

Two cases, each row one whole command, spawn to exit. ``tiny`` (one cell ``x = 1``):
``jupyter execute``, ``nbrun run`` and ``nbrun run --daemon`` with the daemon warm
(started and its template booted before the first repeat). ``batch`` (the corpus's 40
notebooks x 5 cells): the ``jupyter execute`` shell loop, ``nbrun run -j 2`` and
``nbrun run --daemon -j 2``. The daemon lives in a private runtime folder and is stopped at
the end. Medians; the ratio is to ``jupyter execute`` (its loop for the batch).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import case_paths, write_corpus

from tools import JX_LOOP, command_seconds, exe, shell


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="repeats (interleaved)")
    parser.add_argument("--batch-size", type=int, default=40)
    parser.add_argument("--out", type=Path, help="also write the report here")
    args = parser.parse_args()
    nbrun, jupyter = exe("nbrun") or "nbrun", exe("jupyter") or "jupyter"
    with tempfile.TemporaryDirectory(prefix="nbd-", dir="/tmp") as folder:
        root = Path(folder)
        runtime = root / "run"
        runtime.mkdir(mode=0o700)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "NBRUN_DAEMON")}
        env |= {"XDG_RUNTIME_DIR": str(runtime), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}
        write_corpus(root, ("tiny", "batch"), args.batch_size)
        tiny = case_paths(root, "tiny", 1)[0]
        batch = case_paths(root, "batch", args.batch_size)
        out = root / "out"
        out.mkdir()
        rows: dict[str, dict[str, list[str]]] = {
            "tiny": {
                "jupyter execute": [jupyter, "execute", str(tiny), f"--output={out}/{{notebook_name}}"],
                "nbrun run": [nbrun, "run", "--no-progress", str(tiny), "-o", str(out / "tiny.ipynb")],
                "nbrun run --daemon (warm)": [
                    *[nbrun, "run", "--no-progress", "--daemon", str(tiny), "-o", str(out / "tiny.ipynb")]
                ],
            },
            f"batch of {len(batch)}": {
                "jupyter execute (shell loop)": shell(JX_LOOP)(batch, out),
                "nbrun run -j 2": [
                    nbrun,
                    "run",
                    "--no-progress",
                    "-j",
                    "2",
                    "--output-dir",
                    str(out),
                    *map(str, batch),
                ],
                "nbrun run --daemon -j 2 (warm)": [
                    *[nbrun, "run", "--no-progress", "--daemon", "-j", "2", "--output-dir", str(out)],
                    *map(str, batch),
                ],
            },
        }
        subprocess.run([nbrun, "daemon", "start"], env=env, check=True, capture_output=True)
        for command in (rows["tiny"]["nbrun run"], rows["tiny"]["nbrun run --daemon (warm)"]):
            command_seconds(command, env)  # bytecode written, template warm: every repeat measures the same thing
        figures: dict[tuple[str, str], list[float]] = {}
        try:
            for _ in range(args.n):
                for case, commands in rows.items():
                    for row, command in commands.items():
                        figures.setdefault((case, row), []).append(command_seconds(command, env))
        finally:
            subprocess.run([nbrun, "daemon", "stop"], env=env, capture_output=True)
    report = render(figures, rows, args.n)
    print(report)
    target = args.out or Path(__file__).parent / "results" / f"daemon-{time.strftime('%Y%m%d-%H%M%S')}.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text(report)


def render(figures: dict[tuple[str, str], list[float]], rows: dict[str, dict[str, list[str]]], n: int) -> str:
    load = os.getloadavg()[0]
    lines = [f"# The kernel daemon (n={n}, medians, interleaved, load average {load:.1f}, {os.cpu_count()} CPUs)", ""]
    for case, commands in rows.items():
        reference = statistics.median(figures[(case, next(iter(commands)))])
        lines += [f"## {case}", "", "| command | median | min | max | vs jupyter execute |", "|---|---|---|---|---|"]
        for row in commands:
            values = figures[(case, row)]
            median = statistics.median(values)
            lines.append(
                f"| {row} | {median:.3f} s | {min(values):.3f} s | {max(values):.3f} s | {median / reference:.3f}x"
                f" ({reference / median:.1f} times as fast) |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
