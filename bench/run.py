"""Run the nbrun benchmark suite and write a Markdown report.

    python bench/run.py                  # all cases, n=3, batch of 40
    python bench/run.py --quick          # n=1, batch of 8
    python bench/run.py --cases tiny,many_cells -n 5 --out bench/results/x.md

Run it with the Python of the environment where nbrun, nbclient (jupyter execute) and
papermill are installed. Repeats are interleaved: each repeat runs every case and
every tool once (tool order rotated per repeat), so drift hits all tools alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from checks import Check
from corpus import ALL_CASES, KNOWN_CASES, case_paths
from measure import become_subreaper, measure, runner_hwm_mib
from report import RawLoop, Row, render

from tools import BIN, Tool, missing_tools, tools_for

HERE = Path(__file__).resolve().parent
VERSIONED = ("nbrun", "nbclient", "papermill", "ipykernel", "jupyter_client", "nbformat", "pyzmq", "matplotlib")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="n=1 and a batch of 8 notebooks")
    p.add_argument("--cases", default=",".join(ALL_CASES), help=f"comma-separated subset of {','.join(ALL_CASES)}")
    p.add_argument("-n", type=int, default=None, help="repeats per tool and case (default 3, --quick 1)")
    p.add_argument("--batch-size", type=int, default=None, help="notebooks in the batch case (default 40, --quick 8)")
    p.add_argument("--out", type=Path, default=None, help="report path (default bench/results/<timestamp>.md)")
    p.add_argument("--timeout", type=float, default=900.0, help="kill a run after this many seconds")
    p.add_argument("--no-warmup", action="store_true", help="skip the unmeasured warm-up runs")
    a = p.parse_args()
    a.cases = [c.strip() for c in a.cases.split(",") if c.strip()]
    unknown = [c for c in a.cases if c not in KNOWN_CASES]
    if unknown:
        p.error(f"unknown case(s) {unknown}; choose from {list(KNOWN_CASES)}")
    a.n = a.n or (1 if a.quick else 3)
    a.batch_size = a.batch_size or (8 if a.quick else 40)
    return a


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " / ".join(line.strip() for line in text[-lines:])


class Runner:
    def __init__(self, tmp: Path, timeout: float) -> None:
        self.tmp = tmp
        self.timeout = timeout
        self.env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")

    def run(self, case: str, tool: Tool, inputs: list[Path], row: Row | None, tag: str) -> None:
        """One measured run of ``tool`` on ``inputs`` (unmeasured when ``row`` is None)."""
        out = self.tmp / "out" / case / tool.key
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        errlog = self.tmp / "logs" / f"{case}-{tool.key}-{tag.replace('/', '-of-')}.txt"  # tags are "1/3"
        errlog.parent.mkdir(exist_ok=True)
        m = measure(tool.build(inputs, out), env=self.env, cwd=self.tmp, stderr_path=errlog, timeout=self.timeout)
        check = self.check(case, [out / p.name for p in inputs])
        shutil.rmtree(out, ignore_errors=True)
        problem = (
            "timed out"
            if m.timed_out
            else f"exit code {m.returncode}"
            if m.returncode
            else ""
            if check.ok
            else f"output check: {check.detail}"
        )
        if problem and tail(errlog):
            problem += f" — stderr: {tail(errlog)[:300]}"
        log(
            f"  [{tag}] {case:<13} {tool.key:<17} {m.wall:7.3f} s  cpu {m.cpu:6.2f} s  "
            f"peak {m.peak_mib:6.1f} MiB  {'FAILED: ' + problem if problem else 'ok'}"
        )
        if row is not None:
            row.runs.append(m)
            row.checks.append(check)
            if problem:
                row.failures.append(problem)

    def check(self, case: str, outputs: list[Path]) -> Check:
        """Check the written notebooks in a child process (keeps this process small)."""
        cmd = [sys.executable, str(HERE / "checks.py"), case, *map(str, outputs)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=self.env)
        try:
            return Check(**json.loads(done.stdout))
        except (ValueError, TypeError):
            return Check(False, f"checker crashed: {done.stderr.strip()[-300:]}")

    def corpus(self, root: Path, cases: list[str], batch_size: int) -> dict[str, list[Path]]:
        cmd = [
            sys.executable,
            str(HERE / "corpus.py"),
            str(root),
            "--cases",
            ",".join(cases),
            "--batch-size",
            str(batch_size),
        ]
        subprocess.run(cmd, check=True, env=self.env)
        return {case: case_paths(root, case, batch_size) for case in cases}

    def raw_loop(self, raw: RawLoop, tag: str) -> None:
        cmd = [sys.executable, str(HERE / "raw_loop.py")]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout, env=self.env)
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError, IndexError) as exc:
            raw.failures.append(f"{type(exc).__name__}: {exc}")
            log(f"  [{tag}] raw loop FAILED: {exc}")
            return
        raw.ms_per_cell.append(result["ms_per_cell"])
        raw.kernel_cpu_ms.append(result["kernel_cpu_ms_per_cell"])
        log(f"  [{tag}] raw jupyter_client loop: {result['ms_per_cell']:.2f} ms/cell")


def nbrun_fingerprint() -> str:
    """Hash of nbrun's Python sources (package and the repo's cli/), to notice edits during a run."""
    spec = importlib.util.find_spec("nbrun")  # top level: locates without importing
    roots = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    roots += [d for d in (HERE.parent / "cli",) if d.is_dir()]
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12] if roots else "?"


def versions() -> list[str]:
    out = []
    for name in VERSIONED:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} (not installed)")
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def header(args: argparse.Namespace, started: dt.datetime, load0: str, source0: str) -> list[str]:
    mem = next(
        (
            line.split(":")[1].strip()
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "?",
    )
    return [
        f"# nbrun benchmark — {started:%Y-%m-%d %H:%M}",
        "",
        f"Command: `python bench/run.py {' '.join(sys.argv[1:])}` — n={args.n} interleaved repeats, "
        f"{'no warm-up' if args.no_warmup else 'after an unmeasured warm-up'}; "
        "median (min–max). Definitions: bench/README.md.",
        "",
        f"- Machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}, "
        f"{mem} RAM, Linux {platform.release()}, Python {platform.python_version()}",
        f"- Load average at start / end: {load0} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- Versions: {', '.join(versions())}",
        f"- nbrun source fingerprint: {source0}"
        + (
            ""
            if nbrun_fingerprint() == source0
            else f" → {nbrun_fingerprint()}: **nbrun's source changed during the run; its rows mix versions**"
        ),
        f"- Runner's own peak RSS: {runner_hwm_mib():.1f} MiB (a child's ru_maxrss can never read below it)",
        f"- Executables from: `{BIN}`"
        + (f"; missing (rows skipped): {', '.join(missing_tools())}" if missing_tools() else ""),
    ]


def main() -> int:
    args = parse_args()
    started = dt.datetime.now()
    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    source0 = nbrun_fingerprint()
    out_path = args.out or HERE / "results" / f"{started:%Y%m%d-%H%M%S}.md"
    if not become_subreaper():
        log("warning: could not become a child subreaper; CPU of orphaned processes is not counted")
    tmp = Path(tempfile.mkdtemp(prefix="nbrun-bench-"))
    try:
        runner = Runner(tmp, args.timeout)
        corpus = runner.corpus(tmp / "corpus", args.cases, args.batch_size)
        warm = runner.corpus(tmp / "warmup", ["tiny", "plots"] if "plots" in args.cases else ["tiny"], 1)
        results = {case: [Row(t) for t in tools_for(case)] for case in args.cases}
        raw = RawLoop()
        if not args.no_warmup:
            log("warm-up (unmeasured): every tool on tiny; jupyter execute on plots (font cache)")
            for tool in {t.key: t for c in args.cases for t in tools_for(c) if c != "batch"}.values():
                runner.run("tiny", tool, warm["tiny"], None, "warm")
            if "plots" in warm:
                plots_tool = next((t for t in tools_for("plots") if t.reference), tools_for("plots")[0])
                runner.run("plots", plots_tool, warm["plots"], None, "warm")
        for rep in range(args.n):
            tag = f"{rep + 1}/{args.n}"
            if "many_cells" in args.cases:
                runner.raw_loop(raw, tag)
            for case, rows in results.items():
                k = rep % len(rows) if rows else 0
                for row in rows[k:] + rows[:k]:
                    runner.run(case, row.tool, corpus[case], row, tag)
        text = render(header(args, started, load0, source0), results, raw, args.batch_size)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text, encoding="utf-8")
    raw_json: dict[str, Any] = {
        case: [
            {
                "tool": r.tool.key,
                "runs": [dataclasses.asdict(m) for m in r.runs],
                "checks": [dataclasses.asdict(c) for c in r.checks],
                "failures": r.failures,
            }
            for r in rows
        ]
        for case, rows in results.items()
    }
    raw_json["raw_loop"] = dataclasses.asdict(raw)
    out_path.with_suffix(".json").write_text(json.dumps(raw_json, indent=1), encoding="utf-8")
    print(text)
    log(f"report written to {out_path} (raw figures: {out_path.with_suffix('.json').name})")
    failed = any(r.failed for rows in results.values() for r in rows) or bool(raw.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
