"""What measuring a kernel costs (issue 26): the sampler's CPU, and nbrun's figure beside /usr/bin/time's.

    python bench/resources.py            # n=5 repeats
    python bench/resources.py -n 3

1. The sampler's cost: nbrun runs a notebook whose one cell sleeps for
   10 s, with sampling as shipped (every ``SAMPLE_SECONDS``) and with it
   off (the period set to an hour), in a fresh process each; the figure is
   nbrun's own CPU seconds over the run (``getrusage``), and the difference
   as a share of one core over the cell's 10 s. A second case starts a
   subprocess tree (8 children) so the tree walk is counted too.
2. Accuracy: a cell that allocates 500 MB; nbrun's notebook peak beside the
   maximum RSS ``/usr/bin/time -v`` reports for ``jupyter execute`` of the
   same notebook (wait4's rusage: the kernel, the largest process it waited for).

Medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import notebook

from tools import exe

SLEEP = 10.0
CASES = {
    "one kernel, idle 10 s": [f"import time\ntime.sleep({SLEEP})"],
    "kernel + 8 children, idle 10 s": [
        f"import subprocess, time\nkids = [subprocess.Popen(['sleep', '{SLEEP + 2}']) for _ in range(8)]\ntime.sleep({SLEEP})"
    ],
}
RUN = """
import resource, sys
import nbrun.execution.resource_watch as watch
if sys.argv[3] == "off":
    watch.SAMPLE_SECONDS = 3600.0
from nbrun.cli import main
try:
    main(["run", "--no-progress", sys.argv[1], "-o", sys.argv[2]])
except SystemExit:
    pass
usage = resource.getrusage(resource.RUSAGE_SELF)
print(usage.ru_utime + usage.ru_stime)
"""


def nbrun_cpu(path: Path, sampling: str) -> float:
    out = path.with_suffix(".out.ipynb")
    proc = subprocess.run([sys.executable, "-c", RUN, str(path), str(out), sampling], capture_output=True, text=True)
    return float(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="repeats")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"# Resource measuring (n={args.n}, medians, load average {load:.1f})\n")
    print("## The sampler's cost (nbrun's own CPU over the run)\n")
    print("| case | sampling off | sampling on | difference | share of one core |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, sources in CASES.items():
            path = root / (name.split(",")[0].replace(" ", "_").replace("+", "and") + ".ipynb")
            nbformat.write(notebook(sources), path)
            figures: dict[str, list[float]] = {"off": [], "on": []}
            for _ in range(args.n):
                for sampling in ("off", "on"):
                    figures[sampling].append(nbrun_cpu(path, sampling))
            off, on = (statistics.median(figures[key]) for key in ("off", "on"))
            print(f"| {name} | {off:.3f} s | {on:.3f} s | {on - off:+.3f} s | {100 * (on - off) / SLEEP:.2f} % |")
        print("\n## Accuracy: a 500 MB cell\n")
        path = root / "alloc.ipynb"
        nbformat.write(notebook(["x = 1", "block = b'x' * (500 * 2**20)", "del block"]), path)
        ours, peers = [], []
        jupyter = exe("jupyter") or "jupyter"
        for _ in range(args.n):
            peer = subprocess.Popen([jupyter, "execute", str(path), "--output", str(root / "peer.ipynb")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            _, _, usage = os.wait4(peer.pid, 0)
            peers.append(usage.ru_maxrss * 1024)
            done = subprocess.run([exe("nbrun") or "nbrun", "run", str(path), "-o", str(root / "o.ipynb"), "--json", "-"],
                                  capture_output=True, text=True)  # fmt: skip
            ours.append(json.loads(done.stdout)["notebooks"][0]["peak_memory"])
        mine, theirs = statistics.median(ours), statistics.median(peers)
        print("| figure | median |\n|---|---|")
        print(f"| nbrun's notebook peak_memory | {mine / 2**20:.1f} MiB |")
        print(f"| /usr/bin/time -v's maximum RSS of jupyter execute | {theirs / 2**20:.1f} MiB |")
        print(f"| ratio | {mine / theirs:.3f} |")


if __name__ == "__main__":
    main()
