"""Soak test of the IOPub message path (issue 21): no false "incomplete", no real difference.

Writes a seeded corpus of notebooks with random quiet periods (0 to 70 s of
sleep per notebook, split over its cells) and random output: bursts of
prints and displays, ``_ipython_display_`` and ``_repr_mimebundle_`` objects,
every ``display_*`` helper with ``raw=True``, display-id updates,
``clear_output`` and PNG images. Runs it with ``nbrun run DIR --output-dir``
and with a pool of ``jupyter execute`` processes of the same width, then
checks every executed notebook against what its cells must print (a burst
of n prints is n lines, the last of n display updates shows n - 1, ...), and
compares the two tools' notebooks (tests/support/normalize.py: ids, times and
addresses masked). A difference where jupyter execute's notebook breaks the
truth and nbrun's keeps it is jupyter execute's loss, counted apart.

    python bench/soak.py                          # 200 notebooks, -j 16 (about 20 min on 2 cores)
    python bench/soak.py --notebooks 20 --jobs 8  # a quick look

The quiet cells take no CPU, so the pool is wide; the figure that matters is
the count of false verdicts, not the time. Writes the table to
``bench/results/soak-<timestamp>.md``; exit 1 on any false verdict or difference.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.support.normalize import normalized_cells  # noqa: E402 - the tests' own comparison
from tools import exe  # noqa: E402

PIECES = {
    "prints": "for i in range({n}):\n    print('line', i)",
    "displays": "from IPython.display import display\nfor i in range({n}):\n    display({'i': i})",
    "self_display": (
        "from IPython.display import display_html, display_javascript\n"
        "class P:\n    def _ipython_display_(self):\n"
        "        display_html('<b>p</b>', raw=True)\n        display_javascript('1', raw=True)\nP()"
    ),
    "mimebundle": (
        "class M:\n    def _repr_mimebundle_(self, include=None, exclude=None):\n"
        "        return {'text/plain': 'm', 'text/html': '<i>m</i>'}\nM()"
    ),
    "raw_helpers": (
        "from IPython.display import (display_html, display_javascript, display_json, display_latex,\n"
        "    display_markdown, display_pretty, display_svg)\n"
        "display_html('<p>h</p>', raw=True); display_markdown('*m*', raw=True)\n"
        "display_latex('$x$', raw=True); display_json({'a': 1}, raw=True)\n"
        "display_pretty('pretty', raw=True); display_javascript('1', raw=True)\n"
        "display_svg('<svg xmlns=\"http://www.w3.org/2000/svg\"/>', raw=True)"
    ),
    "update": (
        "from IPython.display import display\nh = display('start', display_id=True)\n"
        "for i in range({n}):\n    h.update(i)"
    ),
    "clear": (
        "from IPython.display import clear_output, display\nfor i in range({n}):\n"
        "    clear_output(wait=True)\n    display(i)"
    ),
    "png": (
        "import base64\nfrom IPython.display import Image, display\n"
        "display(Image(data=base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
        "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==')))"
    ),
    "result": "{n} * 2",
}


def notebook_sources(rng: random.Random) -> list[tuple[str, dict[str, object]]]:
    """A few cells (source, what they must print): quiet ones that share up to 70 s, output ones between."""
    quiet_total = rng.uniform(0, 70)
    quiet_cells = rng.randint(1, 3)
    cuts = sorted(rng.uniform(0, quiet_total) for _ in range(quiet_cells - 1))
    quiet = [b - a for a, b in zip([0.0, *cuts], [*cuts, quiet_total])]
    cells: list[tuple[str, dict[str, object]]] = [
        (f"import time; time.sleep({seconds:.2f})", {"kind": "quiet", "n": 0}) for seconds in quiet
    ]
    for _ in range(rng.randint(1, 5)):
        kind = rng.choice(sorted(PIECES))
        n = (
            rng.choice([1, 10, 1000, 20_000])
            if kind in ("prints", "displays", "update", "clear")
            else rng.randint(1, 99)
        )
        cells.insert(rng.randint(0, len(cells)), (PIECES[kind].replace("{n}", str(n)), {"kind": kind, "n": n}))
    return cells


def _plain(output: dict[str, object]) -> object:
    data = output.get("data")
    return data.get("text/plain") if isinstance(data, dict) else None


def truth_breaks(nb: nbformat.NotebookNode) -> list[int]:
    """Indexes of cells whose outputs are not what their code must print (bursts and results)."""
    broken = []
    for index, cell in enumerate(nb.cells):
        piece = cell.metadata.get("soak", {})
        kind, n, outputs = piece.get("kind"), piece.get("n", 0), cell.get("outputs", [])
        shown = [_plain(o) for o in outputs if o.get("output_type") == "display_data"]
        if kind == "prints":
            text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
            good = text == "".join(f"line {i}\n" for i in range(n))
        elif kind == "displays":
            good = shown == [repr({"i": i}) for i in range(n)]
        elif kind in ("update", "clear"):
            good = shown == [str(n - 1)]
        elif kind == "result":
            good = [_plain(o) for o in outputs if o.get("output_type") == "execute_result"] == [str(n * 2)]
        elif kind == "quiet":
            good = outputs == []
        else:
            continue  # small fixed output: compared with jupyter execute's only
        if not good:
            broken.append(index)
    return broken


def write_corpus(folder: Path, count: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for index in range(count):
        cells = [nbformat.v4.new_code_cell(source, metadata={"soak": piece}) for source, piece in notebook_sources(rng)]
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = folder / f"soak{index:03d}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def run_nbrun(corpus: Path, out: Path, jobs: int) -> tuple[float, dict[str, dict[str, object]], str]:
    record = out.parent / "nbrun.json"
    started = time.monotonic()
    proc = subprocess.run(
        [
            exe("nbrun") or "nbrun",
            "run",
            str(corpus),
            "--output-dir",
            str(out),
            "-j",
            str(jobs),
            "--no-progress",
            "--json",
            str(record),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    notebooks = json.loads(record.read_text())["notebooks"] if record.exists() else []
    return elapsed, {Path(n["input"]).name: n for n in notebooks}, proc.stderr


def run_jupyter_execute(paths: list[Path], out: Path, jobs: int) -> tuple[float, dict[str, int]]:
    jupyter = exe("jupyter") or "jupyter"

    def one(path: Path) -> tuple[str, int]:
        target = out / path.name
        proc = subprocess.run([jupyter, "execute", str(path), f"--output={target}"], capture_output=True, check=False)
        return path.name, proc.returncode

    started = time.monotonic()
    with ThreadPoolExecutor(jobs) as pool:
        codes = dict(pool.map(one, paths))
    return time.monotonic() - started, codes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--keep", action="store_true", help="keep the corpus and outputs (their folder is printed)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="nbrun-soak-"))
    corpus, ours, theirs = root / "corpus", root / "nbrun", root / "jupyter-execute"
    for folder in (corpus, ours, theirs):
        folder.mkdir()
    paths = write_corpus(corpus, args.notebooks, args.seed)
    nbrun_wall, records, stderr = run_nbrun(corpus, ours, args.jobs)
    jx_wall, jx_codes = run_jupyter_execute(paths, theirs, args.jobs)
    false_verdicts = sorted(name for name, n in records.items() if n.get("status") != "ok")
    missing = sorted(path.name for path in paths if path.name not in records)
    nbrun_wrong, their_losses, different = [], [], []
    for path in paths:
        mine, reference = ours / path.name, theirs / path.name
        if not mine.exists():
            nbrun_wrong.append(path.name)
            continue
        ours_nb = nbformat.read(mine, 4)
        if truth_breaks(ours_nb):
            nbrun_wrong.append(path.name)
            continue
        if jx_codes.get(path.name) != 0 or not reference.exists():
            their_losses.append(path.name)  # nbrun's notebook is right; jupyter execute failed on it
            continue
        theirs_nb = nbformat.read(reference, 4)
        if truth_breaks(theirs_nb):
            their_losses.append(path.name)
        elif normalized_cells(ours_nb) != normalized_cells(theirs_nb):
            different.append(path.name)
    lines = [
        f"# Soak of the IOPub path: {args.notebooks} notebooks, seed {args.seed}, {args.jobs} at a time",
        "",
        "| tool | wall (s) | notebooks ok | not ok |",
        "|---|---:|---:|---:|",
        f"| nbrun run -j {args.jobs} | {nbrun_wall:.1f} | {len(records) - len(false_verdicts)} | {len(false_verdicts)} |",
        f"| jupyter execute, pool of {args.jobs} | {jx_wall:.1f} | {sum(c == 0 for c in jx_codes.values())} "
        f"| {sum(c != 0 for c in jx_codes.values())} |",
        "",
        f"- false verdicts (nbrun not ok where the notebook is correct): {len(false_verdicts)} {false_verdicts[:10]}",
        f"- notebooks missing from nbrun's record: {len(missing)} {missing[:10]}",
        f"- nbrun notebooks whose outputs are not what the code prints: {len(nbrun_wrong)} {nbrun_wrong[:10]}",
        f"- other differences from jupyter execute's notebooks: {len(different)} {different[:10]}",
        f"- jupyter execute notebooks that lost output (nbrun's right): {len(their_losses)} {their_losses[:10]}",
    ]
    if false_verdicts:
        lines += ["", "```", stderr[-3000:], "```"]
    report = "\n".join(lines) + "\n"
    print(report)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(report)
    if args.keep:
        print(f"kept: {root}")
    else:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return 1 if false_verdicts or missing or nbrun_wrong or different else 0


if __name__ == "__main__":
    sys.exit(main())
