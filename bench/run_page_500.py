"""How fast the run page renders and opens for a large run (500 notebooks), measured, not asserted.

Builds a synthetic run record (500 notebooks, 30 cells each, 2 thumbnails each, 1 in 10
failing with a coloured traceback), renders it, and loads it in headless Chromium next to a
4-notebook page. Usage: python bench/run_page_500.py [--notebooks N]
"""

from __future__ import annotations

import argparse
import base64
import io
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from PIL import Image

from nbrun.reports.run_page import render_run_page


def thumbnail() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 160), (70, 120, 200)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def record(count: int) -> dict[str, object]:
    image = thumbnail()
    notebooks = []
    for number in range(count):
        failing = number % 10 == 3
        cells = [{"index": i, "status": "ok", "duration": 0.01 * (i % 7 + 1)} for i in range(30)]
        nb: dict[str, object] = {
            "input": f"notebooks/group{number // 50}/analysis_{number}.ipynb",
            "output": f"out/group{number // 50}/analysis_{number}.ipynb",
            "status": "error" if failing else "ok",
            "exit_code": 1 if failing else 0,
            "duration": 1.5,
            "message": None,
            "error": None,
            "cells": cells,
            "extracted_files": [],
            "images": [{"cell": 3, "output": 0, "mime": "image/png", "thumbnail": image}] * 2,
        }
        if failing:
            nb["error"] = {"cell": 12, "ename": "ValueError", "evalue": "bad value"}
            nb["message"] = "cell 12 raised ValueError: bad value"
            nb["failure"] = {
                "source": "x = compute()\nraise ValueError('bad value')",
                "traceback": ["\x1b[0;31mValueError\x1b[0m  Traceback (most recent call last)"] * 8,
            }
        notebooks.append(nb)
    return {
        "nbrun_version": "bench",
        "started": "2026-01-01T00:00:00Z",
        "duration": 600.0,
        "exit_code": 1,
        "totals": {"ok": count - count // 10, "error": count // 10},
        "notebooks": notebooks,
    }


TIMING = """<script>addEventListener('load', () => setTimeout(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  console.log('timing ' + nav.domContentLoadedEventEnd.toFixed(0) + ' ' + nav.loadEventEnd.toFixed(0) + ' ' + (paint ? paint.startTime.toFixed(0) : -1));
}, 0));</script>"""


def browser_timing(page: Path, profile: str) -> tuple[float, float, float]:
    """(DOMContentLoaded, load, first contentful paint) in ms, as the browser measured them."""
    timed = page.with_suffix(".timed.html")
    text = page.read_text(encoding="utf-8").replace(
        "default-src 'none'", "default-src 'none'; script-src 'unsafe-inline'"
    )
    timed.write_text(text.replace("</body>", TIMING + "</body>"), encoding="utf-8")
    done = subprocess.run(
        [
            shutil.which("chromium") or "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--screenshot=" + str(page.with_suffix(".png")),
            timed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    line = next(line for line in done.stderr.splitlines() if '"timing ' in line)
    dcl, load, paint = line.split('"timing ', 1)[1].split('"', 1)[0].split()
    return float(dcl), float(load), float(paint)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notebooks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        pages = {}
        for count in (4, args.notebooks):
            data = record(count)
            started = time.perf_counter()
            text = render_run_page(data, page_dir=root)
            render = time.perf_counter() - started
            pages[count] = root / f"page{count}.html"
            pages[count].write_text(text, encoding="utf-8")
            print(f"{count:4d} notebooks: render {render * 1000:.0f} ms, page {len(text.encode()) / 1e6:.2f} MB")
        for count, page in pages.items():
            runs = [browser_timing(page, str(root / f"profile{count}")) for _ in range(args.repeat)]
            dcl, load, paint = (statistics.median(run[i] for run in runs) for i in range(3))
            print(
                f"{count:4d} notebooks: chromium medians of {args.repeat}: DOMContentLoaded {dcl:.0f} ms, "
                f"first contentful paint {paint:.0f} ms, load {load:.0f} ms"
            )


if __name__ == "__main__":
    main()
