"""Write the sample notebooks (sources only); run them with nbrun to store outputs.

python tools/build_samples.py && nbrun run sample_notebooks/*.ipynb --allow-errors
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent.parent / "sample_notebooks"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def notebook(*cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def code(source, tags=()):
    cell = new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def write(name, nb):
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{name.split('.')[0].replace('_', '-')}-{index}"
    nbformat.write(nb, HERE / name)


def sales_csv():
    rng = random.Random(7)
    rows = []
    for day in range(1, 61):
        for region in ("north", "south", "east", "west"):
            base = {"north": 120, "south": 90, "east": 150, "west": 70}[region]
            units = max(0, int(base + 25 * math.sin(day / 6) + rng.gauss(0, 12)))
            rows.append(
                (f"2026-{9 + (day - 1) // 30:02d}-{(day - 1) % 30 + 1:02d}", region, units, round(units * 4.5, 2))
            )
    with open(HERE / "data" / "sales.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "region", "units", "revenue"])
        writer.writerows(rows)


def main():
    (HERE / "data").mkdir(parents=True, exist_ok=True)
    sales_csv()
    write(
        "csv_report.ipynb",
        notebook(
            new_markdown_cell("# Sales report\nReads `data/sales.csv`, summarises revenue by region and plots it."),
            code("import numpy as np\nimport matplotlib\nimport matplotlib.pyplot as plt\n%matplotlib inline"),
            code(
                "table = np.genfromtxt('data/sales.csv', delimiter=',', names=True, dtype=None, encoding='utf-8')\n"
                "print(f'{len(table)} rows, columns: {table.dtype.names}')"
            ),
            code(
                "regions = sorted(set(table['region']))\n"
                "summary = {r: float(table['revenue'][table['region'] == r].sum()) for r in regions}\n"
                "for region, revenue in summary.items():\n"
                "    print(f'{region:>6}: {revenue:>10,.2f}')\n"
                "total = sum(summary.values())\ntotal"
            ),
            code(
                "fig, ax = plt.subplots(figsize=(6, 3.5))\n"
                "ax.bar(list(summary), list(summary.values()), color=['#4c72b0', '#dd8452', '#55a868', '#c44e52'])\n"
                "ax.set_title('Revenue by region')\nax.set_ylabel('revenue')\nplt.show()"
            ),
            code(
                "fig, ax = plt.subplots(figsize=(6, 3.5))\n"
                "for region in regions:\n"
                "    rows = table[table['region'] == region]\n"
                "    ax.plot(np.arange(len(rows)), rows['units'], label=region)\n"
                "ax.set_title('Units per day')\nax.set_xlabel('day')\nax.legend()\nplt.show()"
            ),
        ),
    )
    params = code(
        "# Report parameters (papermill-compatible: override with nbrun run -p NAME VALUE)\n"
        "date = '2026-09-15'  # the day to report, YYYY-MM-DD\n"
        "region = 'all'  # one region, or 'all'",
        tags=["parameters"],
    )
    write(
        "daily_report.ipynb",
        notebook(
            new_markdown_cell(
                "# Daily sales report\nRun it for any day: `nbrun run daily_report.ipynb -p date 2026-09-14 -o 'out/{date}.ipynb'`"
            ),
            params,
            code(
                "import numpy as np\nimport matplotlib.pyplot as plt\n%matplotlib inline\n"
                "table = np.genfromtxt('data/sales.csv', delimiter=',', names=True, dtype=None, encoding='utf-8')\n"
                "day = table[table['date'] == date]\nif region != 'all':\n    day = day[day['region'] == region]\n"
                'print(f\'{date} ({region}): {len(day)} rows, {int(day["units"].sum())} units, revenue {day["revenue"].sum():,.2f}\')'
            ),
            code(
                "fig, ax = plt.subplots(figsize=(5, 3))\nax.bar(day['region'], day['revenue'], color='#4c72b0')\n"
                "ax.set_title(f'Revenue on {date}')\nplt.show()"
            ),
        ),
    )
    write(
        "plots.ipynb",
        notebook(
            new_markdown_cell(
                "# Several plots\nA matplotlib line chart and scatter, a JPEG made with Pillow and an SVG."
            ),
            code(
                "import numpy as np\nimport matplotlib.pyplot as plt\n%matplotlib inline\nx = np.linspace(0, 4 * np.pi, 200)"
            ),
            code(
                "fig, ax = plt.subplots(figsize=(5, 3))\nax.plot(x, np.sin(x), label='sin')\nax.plot(x, np.cos(x), label='cos')\n"
                "ax.legend()\nax.set_title('Waves')\nplt.show()"
            ),
            code(
                "rng = np.random.default_rng(3)\npoints = rng.normal(size=(300, 2))\nfig, ax = plt.subplots(figsize=(4, 4))\n"
                "ax.scatter(points[:, 0], points[:, 1], s=8, alpha=0.6)\nax.set_title('Scatter')\nplt.show()"
            ),
            code(
                "import io\nfrom PIL import Image as PILImage, ImageDraw\nfrom IPython.display import Image, SVG, display\n"
                "canvas = PILImage.new('RGB', (160, 90), 'white')\ndraw = ImageDraw.Draw(canvas)\n"
                "draw.rectangle([10, 10, 150, 80], outline='navy', width=3)\ndraw.text((40, 38), 'JPEG sample', fill='black')\n"
                "buffer = io.BytesIO()\ncanvas.save(buffer, format='JPEG')\ndisplay(Image(data=buffer.getvalue(), format='jpeg'))\n"
                'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60">\'\n'
                '            \'<circle cx="30" cy="30" r="25" fill="teal"/><text x="60" y="35">SVG</text></svg>\'))'
            ),
        ),
    )
    write("hello.ipynb", notebook(code('print("testing testing")')))
    write(
        "failing.ipynb",
        notebook(
            code("x = 41\nprint('before the failure')"),
            code("values = {'a': 1}\nvalues['missing']"),
            code("print('never reached')"),
        ),
    )
    write(
        "tags.ipynb",
        notebook(
            new_markdown_cell("Cells tagged `raises-exception` may fail; `skip-execution` cells are not run."),
            code("raise ValueError('expected failure')", tags=["raises-exception"]),
            code("print('this must not run')", tags=["skip-execution"]),
            code("print('still running after the expected error')"),
        ),
    )
    write(
        "display_updates.ipynb",
        notebook(
            code(
                "from IPython.display import display, update_display\n"
                "handle = display('step 0 of 3', display_id=True)\nprint('a stream between displays')"
            ),
            code(
                "for step in range(1, 4):\n    handle.update(f'step {step} of 3')\nprint('updated the display in the cell above')"
            ),
            code("display('shown twice', display_id='twin')\n_ = display('shown twice', display_id='twin')"),
            code("update_display('twin updated', display_id='twin')"),
        ),
    )
    write(
        "progress_animation.ipynb",
        notebook(
            code(
                "import time\nfrom IPython.display import clear_output, display\n"
                "for frame in range(5):\n    clear_output(wait=True)\n    display(f'frame {frame}')\n    time.sleep(0.02)"
            ),
            code(
                "import sys\nfor pct in range(0, 101, 25):\n    sys.stdout.write(f'\\rprogress {pct:3d}%')\n    sys.stdout.flush()\nprint()"
            ),
            code("print('abc\\b\\bX')\nclear_output()\nprint('after a plain clear')"),
        ),
    )
    write(
        "unicode.ipynb",
        notebook(
            new_markdown_cell("Unicode everywhere: ÅÄÖ, 日本語, עברית, emoji 🎉"),
            code("greeting = 'Grüße aus Köln — ¡Hola! 你好 🌍'\nprint(greeting)\ngreeting"),
            code("from IPython.display import HTML, Markdown\nHTML('<b>naïve café</b> ∑ ∫ √')"),
        ),
    )


if __name__ == "__main__":
    main()
