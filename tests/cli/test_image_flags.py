"""Image extraction through the command line (real kernels)."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from PIL import Image

from nbrun.cli import main
from tests.support.notebooks import SAMPLES

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]

PNG_CELL = (
    "import io\nfrom PIL import Image as P\nfrom IPython.display import Image, display\n"
    "b = io.BytesIO(); P.new('RGB', (8, 6), 'red').save(b, 'PNG'); display(Image(b.getvalue()))"
)
BROKEN_CELL = "from IPython.display import display\ndisplay({'image/png': 'not base64 at all!!', 'text/plain': 'broken'}, raw=True)"


def invoke(*args: str):
    return CliRunner().invoke(main, ["run", *args], catch_exceptions=False)


def test_plots_sample_extracts_pngs_and_svg(sample_copy, tmp_path: Path) -> None:
    path = sample_copy("plots.ipynb")
    out_dir = tmp_path / "images"
    result = invoke(str(path), "-o", str(tmp_path / "out" / "plots.ipynb"), "--extract-images", str(out_dir))
    assert result.exit_code == 0, result.stderr
    assert "wrote 4 images" in result.stderr and str(out_dir) in result.stderr
    nb = nbformat.read(tmp_path / "out" / "plots.ipynb", 4)
    linked = []
    for index, cell in enumerate(nb.cells):
        for number, output in enumerate(cell.get("outputs", [])):
            for mime, relative in output.get("metadata", {}).get("filenames", {}).items():
                file = (tmp_path / "out" / relative).resolve()
                assert file.parent == out_dir.resolve()
                linked.append(file.name)
                if mime == "image/png":
                    assert file.read_bytes() == base64.b64decode(output.data["image/png"])
                elif mime == "image/jpeg":
                    with Image.open(file) as image:
                        assert image.format == "PNG" and image.size == (160, 90)
                else:
                    assert file.read_text().startswith("<svg")
                assert file.name.startswith(f"plots_cell{index}_output{number}")
    assert sorted(linked) == sorted(p.name for p in out_dir.iterdir() if not p.name.startswith("."))


def test_strip_images_keeps_references_only(write_nb, tmp_path: Path) -> None:
    path = write_nb(PNG_CELL)
    result = invoke(str(path), "--extract-images", str(tmp_path / "img"), "--strip-images")
    assert result.exit_code == 0
    output = nbformat.read(path, 4).cells[0].outputs[0]
    assert "image/png" not in output.data and "text/plain" in output.data
    assert output.metadata.filenames["image/png"] == "img/nb_cell0_output0.png"
    assert (tmp_path / "img" / "nb_cell0_output0.png").is_file()


def test_strip_images_needs_extract_images(write_nb) -> None:
    assert invoke(str(write_nb("1")), "--strip-images").exit_code == 2


def test_broken_payload_warns_and_strict_fails(write_nb, tmp_path: Path) -> None:
    path = write_nb(BROKEN_CELL, PNG_CELL)
    lenient = invoke(str(path), "--extract-images", str(tmp_path / "img"))
    assert lenient.exit_code == 0
    assert "warning" in lenient.stderr and "cell 1 (index 0)" in lenient.stderr
    broken = nbformat.read(path, 4).cells[0].outputs[0]
    assert broken.data["image/png"] == "not base64 at all!!" and "filenames" not in broken.metadata
    strict = invoke(str(path), "--extract-images", str(tmp_path / "img"), "--strict-images")
    assert strict.exit_code == 5 and "--strict-images" in strict.stderr


def test_foreign_files_are_not_overwritten_without_force(write_nb, tmp_path: Path) -> None:
    path = write_nb(PNG_CELL)
    images = tmp_path / "img"
    images.mkdir()
    foreign = images / "nb_cell0_output0.png"
    foreign.write_bytes(b"somebody else's file")
    refused = invoke(str(path), "--extract-images", str(images))
    assert refused.exit_code == 5 and "--force" in refused.stderr
    assert foreign.read_bytes() == b"somebody else's file"
    assert nbformat.read(path, 4).cells[0].outputs[0].output_type == "display_data"  # the run itself was kept
    assert invoke(str(path), "--extract-images", str(images), "--force").exit_code == 0
    assert foreign.read_bytes().startswith(b"\x89PNG")
    assert invoke(str(path), "--extract-images", str(images)).exit_code == 0  # ours now: rerun is fine


def test_same_stem_in_two_folders_never_collides(tmp_path: Path) -> None:
    from tests.support.notebooks import make_notebook

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        nbformat.write(
            make_notebook(PNG_CELL.replace("'red'", "'blue'" if folder == "b" else "'red'")),
            tmp_path / folder / "report.ipynb",
        )
    images = tmp_path / "images"
    result = invoke(
        str(tmp_path / "a" / "report.ipynb"), str(tmp_path / "b" / "report.ipynb"), "--extract-images", str(images)
    )
    assert result.exit_code == 0, result.stderr
    red = Image.open(images / "a" / "report_cell0_output0.png").getpixel((0, 0))
    blue = Image.open(images / "b" / "report_cell0_output0.png").getpixel((0, 0))
    assert red != blue


def test_api_returns_written_files(tmp_path: Path) -> None:
    import shutil

    import nbrun

    shutil.copy(SAMPLES / "plots.ipynb", tmp_path / "plots.ipynb")
    result = nbrun.run_path(
        tmp_path / "plots.ipynb", None, file_options=nbrun.FileOptions(extract_images=tmp_path / "img")
    )
    assert sorted(p.name for p in result.extracted_files) == [
        "plots_cell2_output0.png",
        "plots_cell3_output0.png",
        "plots_cell4_output0.png",
        "plots_cell4_output1.svg",
    ]
