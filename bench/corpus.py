"""Write the benchmark corpus (nbformat only).

Usage:  python bench/corpus.py DIR [--cases tiny,plots,...] [--batch-size N]

run.py calls this in a child process, so the runner itself never imports nbformat
and stays small (a forked child starts with the runner's RSS as its high-water mark).

Cases (what each one measures is in bench/README.md):

  tiny            1 cell ``x = 1``
  many_cells      500 cells ``x = i``
  sleep           5 x ``time.sleep(0.2)``
  streams_lines   200,000 printed lines
  streams_write   one ``sys.stdout.write('x' * 50_000_000)``
  plots           20 inline matplotlib figures of 1000 points
  batch           N notebooks (default 40) x 5 small cells
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

SINGLE_CASES = ("tiny", "many_cells", "sleep", "streams_lines", "streams_write", "plots")
ALL_CASES = (*SINGLE_CASES, "batch")
# issue 12's fault probes: opt-in (--cases fd_flood,big_png,display_updates), one cell each
PROBE_CASES = ("fd_flood", "big_png", "display_updates")
KNOWN_CASES = (*ALL_CASES, *PROBE_CASES)
PROBE_SOURCES = {
    # 300 MB on the kernel's fd 2: 200 MB by os.write, 100 MB from a subprocess
    "fd_flood": "import os, subprocess\nchunk = b'e' * (1 << 20)\nfor _ in range(200):\n    os.write(2, chunk)\n"
    "subprocess.run('head -c 100000000 /dev/zero | tr \"\\\\0\" o', shell=True)",
    # one 147 MB image/png payload (base64 of 110 MB)
    "big_png": "import base64\nfrom IPython.display import display\n"
    "payload = base64.b64encode(b'\\x89PNG' + b'\\0' * 110_000_000).decode()\n"
    "display({'image/png': payload, 'text/plain': 'big'}, raw=True)\ndel payload",
    # twenty display ids, each updated with 5 MB
    "display_updates": "from IPython.display import display, update_display\n"
    "for i in range(20):\n    display('start', display_id=f'u{i}')\n"
    "for i in range(20):\n    update_display({'text/plain': str(i % 10) * (5 * 2**20)}, raw=True, display_id=f'u{i}')",
}

MANY_CELLS = 500
STREAM_LINES = 200_000
STREAM_WRITE_CHARS = 50_000_000
PLOTS = 20
SLEEPS = 5

METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
    "language_info": {"name": "python"},
}


def notebook(sources: list[str]) -> Any:
    """A valid v4 notebook with one code cell per source and stable cell ids."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(metadata=dict(METADATA))  # type: ignore[no-untyped-call]
    nb.cells = [new_code_cell(src) for src in sources]  # type: ignore[no-untyped-call]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:04d}"
    nbformat.validate(nb)
    return nb


def plot_source(k: int) -> str:
    return (
        ("%matplotlib inline\n" if k == 0 else "") + "import math\n"
        "import matplotlib.pyplot as plt\n"
        "xs = list(range(1000))\n"
        f"ys = [math.sin(x / 50 + {k}) for x in xs]\n"
        "fig, ax = plt.subplots()\n"
        "ax.plot(xs, ys)\n"
        f"ax.set_title('figure {k}')\n"
        "plt.show()"
    )


def batch_sources(n: int) -> list[str]:
    """Five small cells; notebook n prints and returns values that depend on n (checked later)."""
    return [
        f"a = {n} + 3\nb = a * 7",
        "print('notebook', a, b)",
        "s = sum(i * i for i in range(1000))",
        "words = ['alpha', 'beta', 'gamma'] * a\ncounts = {w: words.count(w) for w in set(words)}",
        f"assert s == 332833500\nassert counts['beta'] == {n + 3}\ns, len(words)",
    ]


def single_sources(case: str) -> list[str]:
    if case == "tiny":
        return ["x = 1"]
    if case == "many_cells":
        return [f"x = {i}" for i in range(MANY_CELLS)]
    if case == "sleep":
        return ["import time\ntime.sleep(0.2)"] * SLEEPS
    if case == "streams_lines":
        return [f"for i in range({STREAM_LINES}):\n    print(i)"]
    if case == "streams_write":
        return [f"import sys\nsys.stdout.write('x' * {STREAM_WRITE_CHARS})"]
    if case == "plots":
        return [plot_source(k) for k in range(PLOTS)]
    if case in PROBE_SOURCES:
        return [PROBE_SOURCES[case]]
    raise ValueError(f"unknown case {case!r}")


def case_paths(root: Path, case: str, batch_size: int) -> list[Path]:
    """Where ``write_corpus`` puts the notebooks of ``case``."""
    if case == "batch":
        return [root / "batch" / f"nb{n:02d}.ipynb" for n in range(1, batch_size + 1)]
    return [root / f"{case}.ipynb"]


def write_corpus(root: Path, cases: tuple[str, ...] = ALL_CASES, batch_size: int = 40) -> None:
    """Write the notebooks of ``cases`` under ``root`` (see ``case_paths``)."""
    import nbformat

    for case in cases:
        paths = case_paths(root, case, batch_size)
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        for n, path in enumerate(paths, start=1):
            sources = batch_sources(n) if case == "batch" else single_sources(case)
            nbformat.write(notebook(sources), path)  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--cases", default=",".join(ALL_CASES))
    parser.add_argument("--batch-size", type=int, default=40)
    args = parser.parse_args()
    write_corpus(args.root, tuple(args.cases.split(",")), args.batch_size)
