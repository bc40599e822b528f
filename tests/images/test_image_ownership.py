"""Issue 12 defects 1 and 6: every output notebook owns its own images, also under concurrency."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell
from PIL import Image

from nbrun.cli import main
from nbrun.images.extract import MANIFEST_NAME
from tests.support.notebooks import make_notebook

pytestmark = [pytest.mark.kernel]

COLOR_CELL = (
    "import io\nfrom PIL import Image as P\nfrom IPython.display import Image, display\n"
    "b = io.BytesIO(); P.new('RGB', (4, 4), color).save(b, 'PNG'); display(Image(b.getvalue()))"
)
RGB = {"red": (255, 0, 0), "blue": (0, 0, 255), "green": (0, 128, 0)}


def invoke(*args: str):
    return CliRunner().invoke(main, ["run", *args], catch_exceptions=False)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    nb = make_notebook(("color = 'black'", ["parameters"]), COLOR_CELL)
    path = tmp_path / "rep.ipynb"
    nbformat.write(nb, path)
    return path


def pixel_of(notebook: Path) -> tuple[int, ...]:
    nb = nbformat.read(notebook, 4)
    output = nb.cells[-1].outputs[0]
    relative = output.metadata.filenames["image/png"]
    with Image.open(notebook.parent / relative) as image:
        return tuple(image.convert("RGB").getpixel((0, 0)))


def test_grid_runs_each_keep_their_own_images(report: Path, tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("- {color: red}\n- {color: blue}\n- {color: green}\n")
    images = tmp_path / "imgs"
    result = invoke(
        str(report),
        "--params-grid",
        str(grid),
        "-o",
        str(tmp_path / "out" / "{color}.ipynb"),
        "--extract-images",
        str(images),
        "--strip-images",
    )
    assert result.exit_code == 0, result.stderr
    pngs = sorted(p.name for p in images.glob("*.png"))
    assert len(pngs) == 3, pngs
    for color, rgb in RGB.items():
        assert pixel_of(tmp_path / "out" / f"{color}.ipynb") == rgb


def test_separate_runs_into_one_folder_do_not_overwrite_each_other(report: Path, tmp_path: Path) -> None:
    images = tmp_path / "imgs"
    for color in ("red", "blue"):
        result = invoke(
            str(report),
            "-p",
            "color",
            color,
            "-o",
            str(tmp_path / f"{color}.ipynb"),
            "--extract-images",
            str(images),
            "--strip-images",
        )
        assert result.exit_code == 0, result.stderr
    assert pixel_of(tmp_path / "red.ipynb") == RGB["red"]
    assert pixel_of(tmp_path / "blue.ipynb") == RGB["blue"]


def test_a_clash_with_another_outputs_image_is_refused_before_writing(report: Path, tmp_path: Path) -> None:
    images = tmp_path / "imgs"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = invoke(
        str(report), "-p", "color", "red", "-o", str(tmp_path / "a" / "x.ipynb"), "--extract-images", str(images)
    )
    assert first.exit_code == 0, first.stderr
    before = {p.name: p.read_bytes() for p in images.iterdir()}
    second = invoke(
        str(report), "-p", "color", "blue", "-o", str(tmp_path / "b" / "x.ipynb"), "--extract-images", str(images)
    )
    assert second.exit_code == 5 and "--force" in second.stderr
    assert {p.name: p.read_bytes() for p in images.iterdir()} == before
    assert pixel_of(tmp_path / "a" / "x.ipynb") == RGB["red"]


WORKER = """
import sys
from pathlib import Path
import nbformat
from nbrun.images.extract import extract_images
from nbrun.options import FileOptions
nb = nbformat.read(sys.argv[1], 4)
images = Path(sys.argv[2])
for round_ in range(int(sys.argv[4])):
    stem = f"{sys.argv[3]}{round_}"
    extract_images(nb, stem=stem, images_dir=images, notebook_dir=images.parent,
                   options=FileOptions(extract_images=images), source_id=stem)
"""


def test_concurrent_processes_never_lose_ownership_entries(tmp_path: Path) -> None:
    """Defect 6: processes updating one .nbrun-images.json at once keep every entry."""
    import base64
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, "PNG")
    nb = make_notebook("x")
    nb.cells[0] = new_code_cell("x")
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(buffer.getvalue()).decode()})
    ]
    source = tmp_path / "img.ipynb"
    nbformat.write(nb, source)
    images = tmp_path / "imgs"
    rounds = 15
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(source), str(images), f"w{n}_", str(rounds)])
        for n in range(4)
    ]
    assert all(worker.wait(timeout=60) == 0 for worker in workers)
    manifest = json.loads((images / MANIFEST_NAME).read_text())
    assert len(manifest) == 4 * rounds, sorted(
        set(f"w{n}_{r}_cell0_output0.png" for n in range(4) for r in range(rounds)) - set(manifest)
    )
