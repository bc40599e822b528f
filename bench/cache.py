"""The execution cache on the 40-notebook batch: a cold run, then a fully cached one.

    python bench/cache.py            # n=3 interleaved repeats, batch of 40, -j 2
    python bench/cache.py -n 1 --batch-size 8

Per repeat, with a fresh cache folder each time: ``nbrun run -j 2 --cache C``
(cold: every notebook runs and is stored), then the same command again
(warm: every notebook is replayed), then ``nbrun run -j 2`` without a cache
as the reference. When jupyter-cache is installed (``pip install
jupyter-cache``), ``jcache project execute`` (cold, then warm) runs beside it on
the same notebooks: it fills its own store and writes no notebook (that takes
a ``jcache notebook merge`` per notebook), so its rows do less work.
Wall time is the whole process, from spawn to exit; CPU is the user +
system time of the process and its children (kernels included), less
sensitive to a busy machine. Medians. Commands run with bytecode writing
allowed (``PYTHONDONTWRITEBYTECODE`` removed), as an installed nbrun has its
modules compiled.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import case_paths, write_corpus

from tools import exe

ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
Figure = tuple[float, float]  # wall, CPU seconds


def timed(command: list[str], *, expect: frozenset[int] = frozenset({0})) -> Figure:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.run(
        command, capture_output=True, text=True, input="y\n", env=ENV
    )  # jcache asks to create its cache
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in expect:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}\n{proc.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _without_path(path: Path) -> dict[str, Any]:
    """The notebook, less papermill's ``output_path`` (where it was written)."""
    nb = json.loads(path.read_text())
    nb.get("metadata", {}).get("papermill", {}).pop("output_path", None)
    return dict(nb)


def nbrun_rows(notebooks: list[Path], work: Path, jobs: int) -> dict[str, Figure]:
    nbrun = exe("nbrun") or "nbrun"
    cache = work / "nbrun-cache"
    base = [nbrun, "run", "--no-progress", "-j", str(jobs), *map(str, notebooks)]
    rows = {
        "nbrun --cache, cold (runs and stores)": timed(
            [*base, "--cache", str(cache), "--output-dir", str(work / "cold")]
        ),
        "nbrun --cache, warm (all replayed)": timed([*base, "--cache", str(cache), "--output-dir", str(work / "warm")]),
        "nbrun, no cache": timed([*base, "--output-dir", str(work / "plain")]),
    }
    for notebook in notebooks:  # the replay wrote the same notebooks as the run (each names its own path)
        cold, warm = (_without_path(work / folder / notebook.name) for folder in ("cold", "warm"))
        if cold != warm:
            raise SystemExit(f"replayed {notebook.name} differs from the run it replays")
    return rows


def jcache_rows(notebooks: list[Path], work: Path, jobs: int) -> dict[str, Figure]:
    jcache = exe("jcache")
    if jcache is None:
        return {}
    cache = work / "jcache"
    timed([jcache, "notebook", "-p", str(cache), "add", *map(str, notebooks)])
    executor = "local-parallel" if jobs > 1 else "local-serial"
    execute = [jcache, "project", "-p", str(cache), "execute", "--executor", executor]
    return {
        f"jcache project execute ({executor}), cold": timed(execute),
        f"jcache project execute ({executor}), warm": timed(execute),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=3, help="repeats (interleaved)")
    parser.add_argument("--batch-size", type=int, default=40)
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args()
    figures: dict[str, list[Figure]] = {}
    subprocess.run(
        [sys.executable, "-c", "import nbrun.cli.batch, nbrun.cache.runs, nbrun.kernel.fork.provisioner"],
        env=ENV,
        check=True,
    )
    with tempfile.TemporaryDirectory(prefix="nbrun-bench-cache-") as tmp:
        root = Path(tmp)
        write_corpus(root / "corpus", ("batch",), args.batch_size)
        notebooks = case_paths(root / "corpus", "batch", args.batch_size)
        for repeat in range(args.n):
            work = root / f"r{repeat}"
            work.mkdir()
            rows = {**nbrun_rows(notebooks, work, args.jobs), **jcache_rows(notebooks, work, args.jobs)}
            for label, wall in rows.items():
                figures.setdefault(label, []).append(wall)
            print(f"repeat {repeat + 1}: " + ", ".join(f"{k}: {v[0]:.2f} s" for k, v in rows.items()), file=sys.stderr)
            shutil.rmtree(work)
    medians = {
        label: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
        for label, values in figures.items()
    }
    cold_wall, cold_cpu = medians["nbrun --cache, cold (runs and stores)"]
    load = os.getloadavg()[0]
    print(f"\n{args.batch_size} notebooks x 5 cells, -j {args.jobs}, n={args.n}, medians, load average {load:.1f}\n")
    print("| run | wall | CPU | wall vs nbrun cold | CPU vs nbrun cold |")
    print("|---|---|---|---|---|")
    for label, (wall, cpu) in medians.items():
        print(f"| {label} | {wall:.2f} s | {cpu:.2f} s | {wall / cold_wall:.1%} | {cpu / cold_cpu:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
