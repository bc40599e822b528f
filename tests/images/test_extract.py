"""Image extraction: file names, conversion, stripping, bad payloads, ownership."""

from __future__ import annotations

import base64
import copy
import io
import json
import struct
import zlib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

import nbrun
from nbrun import ExecuteOptions, FileOptions, NotebookWriteError
from nbrun.images.extract import MANIFEST_NAME, ImageConflictError, ImageReport, extract_images
from tests.support.notebooks import make_notebook

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"><rect width="10" height="20"/></svg>'
SOURCE = "/src/report.ipynb"


def image_bytes(fmt: str, size: tuple[int, int] = (30, 20), color: tuple[int, int, int] = (200, 10, 10)) -> bytes:
    im = Image.new("RGB", size, color)
    im.putpixel((0, 0), (1, 2, 3))
    buffer = io.BytesIO()
    im.save(buffer, fmt)
    return buffer.getvalue()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def display(data: dict, metadata: dict | None = None, kind: str = "display_data") -> nbformat.NotebookNode:
    extra = {"execution_count": 1} if kind == "execute_result" else {}
    return new_output(kind, data={"text/plain": "<Figure>", **data}, metadata=metadata or {}, **extra)


def notebook(*cells: list) -> nbformat.NotebookNode:
    """One code cell per argument, each with the given outputs."""
    return new_notebook(cells=[new_code_cell("x", outputs=outputs) for outputs in cells])


def extract(
    nb,
    tmp_path: Path,
    *,
    images: str = "images",
    notebook_dir: Path | None = None,
    source_id: str = SOURCE,
    stem: str = "report",
    **options,
) -> ImageReport:
    return extract_images(
        nb,
        stem=stem,
        images_dir=tmp_path / images,
        notebook_dir=notebook_dir or tmp_path,
        options=FileOptions(extract_images=tmp_path / images, **options),
        source_id=source_id,
    )


def test_png_is_written_byte_identical_and_linked(tmp_path: Path) -> None:
    raw = image_bytes("PNG")
    nb = new_notebook(
        cells=[
            new_markdown_cell("# t"),
            new_code_cell(
                "x", outputs=[new_output("stream", name="stdout", text="hi\n"), display({"image/png": b64(raw)})]
            ),
        ]
    )
    report = extract(nb, tmp_path)
    target = tmp_path / "images" / "report_cell1_output1.png"
    assert report == ImageReport([target], [], 0)
    assert target.read_bytes() == raw
    output = nb.cells[1].outputs[1]
    assert output.metadata.filenames == {"image/png": "images/report_cell1_output1.png"}
    assert output.data["image/png"] == b64(raw)  # kept without strip_images
    assert json.loads((tmp_path / "images" / MANIFEST_NAME).read_text()) == {"report_cell1_output1.png": SOURCE}
    nbformat.validate(nb)


def test_payload_with_newlines_or_as_a_list_of_lines_decodes(tmp_path: Path) -> None:
    raw = image_bytes("PNG", (50, 40))
    text = b64(raw)
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"
    lines = [text[i : i + 60] + "\n" for i in range(0, len(text), 60)]
    nb = notebook([display({"image/png": wrapped}), display({"image/png": lines})])
    report = extract(nb, tmp_path)
    assert report.broken == 0
    assert [p.read_bytes() for p in report.written] == [raw, raw]


@pytest.mark.parametrize(
    "fmt,mime",
    [
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_other_raster_types_are_converted_to_png(tmp_path: Path, fmt: str, mime: str) -> None:
    nb = notebook([display({mime: b64(image_bytes(fmt, (33, 17)))})])
    report = extract(nb, tmp_path)
    assert report.written == [tmp_path / "images" / "report_cell0_output0.png"]
    with Image.open(report.written[0]) as im:
        assert (im.format, im.size) == ("PNG", (33, 17))
    assert nb.cells[0].outputs[0].metadata.filenames == {mime: "images/report_cell0_output0.png"}


def test_animated_gif_keeps_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50)
    nb = notebook([display({"image/gif": b64(buffer.getvalue())})])
    report = extract(nb, tmp_path)
    with Image.open(report.written[0]) as im:
        assert im.convert("RGB").getpixel((4, 4)) == (255, 0, 0)


def test_svg_is_written_as_utf8_text(tmp_path: Path) -> None:
    svg = SVG.replace("<rect", "<!-- é --><rect")
    lines = [line + "\n" for line in svg.split("><")]
    nb = notebook([display({"image/svg+xml": lines})])
    report = extract(nb, tmp_path)
    assert report.written == [tmp_path / "images" / "report_cell0_output0.svg"]
    assert report.written[0].read_text(encoding="utf-8") == "".join(lines)
    assert nb.cells[0].outputs[0].metadata.filenames == {"image/svg+xml": "images/report_cell0_output0.svg"}


def test_raster_and_svg_of_one_output_share_a_base_name(tmp_path: Path) -> None:
    raw = image_bytes("PNG")
    nb = notebook([display({"image/svg+xml": SVG, "image/jpeg": b64(image_bytes("JPEG")), "image/png": b64(raw)})])
    report = extract(nb, tmp_path)
    folder = tmp_path / "images"
    assert report.written == [folder / "report_cell0_output0.png", folder / "report_cell0_output0.svg"]
    assert report.written[0].read_bytes() == raw  # PNG preferred over JPEG
    assert nb.cells[0].outputs[0].metadata.filenames == {
        "image/png": "images/report_cell0_output0.png",
        "image/svg+xml": "images/report_cell0_output0.svg",
    }


def test_several_images_in_one_cell_and_across_cells(tmp_path: Path) -> None:
    nb = notebook(
        [
            display({"image/png": b64(image_bytes("PNG", (5, 5)))}),
            new_output("stream", name="stdout", text="between\n"),
            display({"image/jpeg": b64(image_bytes("JPEG", (6, 6)))}),
            display({"image/png": b64(image_bytes("PNG", (7, 7)))}, kind="execute_result"),
        ],
        [],
        [display({"image/png": b64(image_bytes("PNG", (8, 8)))})],
    )
    report = extract(nb, tmp_path)
    names = [p.name for p in report.written]
    assert names == [
        "report_cell0_output0.png",
        "report_cell0_output2.png",
        "report_cell0_output3.png",
        "report_cell2_output0.png",
    ]
    sizes = []
    for path in report.written:
        with Image.open(path) as im:
            sizes.append(im.size)
    assert sizes == [(5, 5), (6, 6), (7, 7), (8, 8)]
    assert "filenames" not in nb.cells[0].outputs[1].get("metadata", {})


def test_paths_in_the_notebook_are_relative_to_the_notebook_folder(tmp_path: Path) -> None:
    nb = notebook([display({"image/png": b64(image_bytes("PNG"))})])
    extract(nb, tmp_path, images="a/imgs", notebook_dir=tmp_path / "b" / "out")
    assert nb.cells[0].outputs[0].metadata.filenames["image/png"] == "../../a/imgs/report_cell0_output0.png"
    nb = notebook([display({"image/png": b64(image_bytes("PNG"))})])
    extract(nb, tmp_path, images="same", notebook_dir=tmp_path / "same")
    assert nb.cells[0].outputs[0].metadata.filenames["image/png"] == "report_cell0_output0.png"


def test_strip_images_removes_written_payloads_only(tmp_path: Path) -> None:
    jpeg = b64(image_bytes("JPEG"))
    nb = notebook(
        [
            display(
                {
                    "image/png": b64(image_bytes("PNG")),
                    "image/svg+xml": SVG,
                    "image/jpeg": jpeg,
                    "text/html": "<b>x</b>",
                },
                metadata={"image/png": {"width": 30}},
            ),
            display({"image/png": "!!not base64!!"}),
        ]
    )
    report = extract(nb, tmp_path, strip_images=True)
    assert report.broken == 1 and len(report.written) == 2
    first, second = nb.cells[0].outputs
    assert first.data == {"text/plain": "<Figure>", "text/html": "<b>x</b>", "image/jpeg": jpeg}
    assert first.metadata == {
        "image/png": {"width": 30},
        "filenames": {
            "image/png": "images/report_cell0_output0.png",
            "image/svg+xml": "images/report_cell0_output0.svg",
        },
    }
    assert second.data["image/png"] == "!!not base64!!"  # a broken one is never stripped
    nbformat.validate(nb)


def test_without_strip_the_payloads_stay(tmp_path: Path) -> None:
    nb = notebook([display({"image/png": b64(image_bytes("PNG")), "image/svg+xml": SVG})])
    extract(nb, tmp_path)
    assert set(nb.cells[0].outputs[0].data) == {"text/plain", "image/png", "image/svg+xml"}


@pytest.mark.parametrize(
    "hostile,expected",
    [
        ("../../etc/passwd", "passwd.png"),
        ("/abs/x.png", "x.png"),
        ("a/b.png", "b.png"),
        ("..\\..\\win.png", "win.png"),
        ("..", "report_cell0_output0.png"),
        ("../..", "report_cell0_output0.png"),
        ("", "report_cell0_output0.png"),
        ("   ", "report_cell0_output0.png"),
        ("ev\x00il\nname\r.png", "evilname.png"),
        (".hidden.png", "hidden.png"),
        (".nbrun-images.json", "nbrun-images.json.png"),
        ("CON.png", "report_cell0_output0.png"),
        ("nul", "report_cell0_output0.png"),
        ("plot.jpg", "plot.png"),
        ("a..b.png", "a.b.png"),
        ('w*e?i<r>d|:"name.png', "w_e_i_r_d___name.png"),
        ("x" * 500 + ".png", "x" * 100 + ".png"),
    ],
)
def test_hostile_metadata_filenames_stay_inside_images_dir(tmp_path: Path, hostile: str, expected: str) -> None:
    nb = notebook([display({"image/png": b64(image_bytes("PNG"))}, metadata={"filename": hostile})])
    report = extract(nb, tmp_path)
    folder = (tmp_path / "images").resolve()
    assert [p.name for p in report.written] == [expected]
    assert report.written[0].resolve().parent == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted([expected, MANIFEST_NAME])
    assert nb.cells[0].outputs[0].metadata.filenames["image/png"] == f"images/{expected}"


def test_per_mime_filename_wins_and_gets_the_written_extension(tmp_path: Path) -> None:
    metadata = {"filename": "both.png", "image/svg+xml": {"filename": "../vector.png"}}
    nb = notebook(
        [
            display({"image/png": b64(image_bytes("PNG")), "image/svg+xml": SVG}, metadata=metadata),
            display({"image/jpeg": b64(image_bytes("JPEG"))}, metadata={"filename": 42}),
        ]
    )
    report = extract(nb, tmp_path)
    assert [p.name for p in report.written] == ["both.png", "vector.svg", "report_cell0_output1.png"]


def test_clashing_names_are_disambiguated_deterministically(tmp_path: Path) -> None:
    outputs = [
        display({"image/png": b64(image_bytes("PNG"))}, metadata={"filename": "plot.png"}),
        display({"image/png": b64(image_bytes("PNG"))}, metadata={"filename": "sub/PLOT.png"}),
        display({"image/png": b64(image_bytes("PNG"))}, metadata={"filename": "report_cell0_output3.png"}),
        display({"image/png": b64(image_bytes("PNG"))}),
    ]
    names = []
    for attempt in ("first", "second"):
        report = extract(notebook(copy.deepcopy(outputs)), tmp_path / attempt)
        names.append([p.name for p in report.written])
    assert names[0] == names[1] == ["plot.png", "PLOT_2.png", "report_cell0_output3.png", "report_cell0_output3_2.png"]


def truncated_png() -> bytes:
    raw = image_bytes("PNG", (200, 100))
    return raw[: len(raw) // 2]


@pytest.mark.parametrize(
    "mime,payload,reason",
    [
        ("image/png", "!!not base64!!", "invalid base64"),
        ("image/png", "iVBORw0KGgo", "invalid base64"),  # bad padding
        ("image/png", "", "empty"),
        ("image/png", b64(truncated_png()), "image/png"),
        ("image/png", b64(image_bytes("PNG")[:-12]), "image/png"),  # IEND chunk cut off
        ("image/png", b64(image_bytes("JPEG")), "not a readable image/png"),
        ("image/jpeg", b64(image_bytes("PNG")), "not a readable image/jpeg"),
        ("image/png", b64(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4), "image/png"),
        ("image/gif", b64(b"plain garbage, not an image at all"), "not a readable image/gif"),
        ("image/png", ["ok", 3], "not text"),
        ("image/svg+xml", "just some text", "not SVG"),
    ],
)
def test_bad_payloads_warn_and_leave_the_output_untouched(
    tmp_path: Path, mime: str, payload: object, reason: str
) -> None:
    good = display({"image/png": b64(image_bytes("PNG"))})
    nb = new_notebook(
        cells=[
            new_code_cell("x", outputs=[good]),
            new_code_cell(
                "y", outputs=[new_output("stream", name="stdout", text="s"), display({"image/svg+xml": SVG})]
            ),
        ]
    )
    nb.cells[1].outputs[1]["data"][mime] = payload  # set after nbformat's validation
    before = copy.deepcopy(nb.cells[1].outputs[1])
    report = extract(nb, tmp_path, strip_images=True)
    assert report.broken == 1
    assert report.written == [tmp_path / "images" / "report_cell0_output0.png"]
    assert len(report.warnings) == 1
    warning = report.warnings[0]
    assert "report" in warning and "cell 2 (index 1)" in warning and "output 1" in warning and mime in warning
    assert reason in warning and "\n" not in warning
    assert nb.cells[1].outputs[1] == before


def test_only_bad_payloads_write_nothing(tmp_path: Path) -> None:
    nb = notebook([display({"image/png": "@@@"})], [display({"image/jpeg": b64(b"nope")})])
    report = extract(nb, tmp_path)
    assert (report.written, report.broken, len(report.warnings)) == ([], 2, 2)
    assert not (tmp_path / "images").exists()


def test_decompression_bomb_over_the_pixel_limit_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 30x20 = 600 pixels passes
    nb = notebook(
        [
            display({"image/png": b64(image_bytes("PNG", (40, 40)))}),  # warning range: 1600 px
            display({"image/jpeg": b64(image_bytes("JPEG", (100, 100)))}),  # error range: > 2x
            display({"image/png": b64(image_bytes("PNG"))}),
        ]
    )
    before = copy.deepcopy(nb)
    report = extract(nb, tmp_path)
    assert report.broken == 2
    assert [p.name for p in report.written] == ["report_cell0_output2.png"]
    assert all("too large" in w for w in report.warnings)
    assert nb.cells[0].outputs[:2] == before.cells[0].outputs[:2]


def test_png_header_claiming_huge_dimensions_is_skipped(tmp_path: Path) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )
    nb = notebook([display({"image/png": b64(bomb)})])
    report = extract(nb, tmp_path)
    assert report.written == [] and report.broken == 1 and "too large" in report.warnings[0]


def test_notebook_without_images_touches_nothing(tmp_path: Path) -> None:
    nb = notebook([new_output("stream", name="stdout", text="x"), display({})], [])
    nb.cells.append(new_markdown_cell("![x](data:image/png;base64,AAAA)"))
    before = copy.deepcopy(nb)
    assert extract(nb, tmp_path) == ImageReport([], [], 0)
    assert nb == before and not (tmp_path / "images").exists()


def test_foreign_file_conflict_is_raised_before_anything_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "report_cell1_output0.png").write_bytes(b"someone else's")
    nb = notebook([display({"image/png": b64(image_bytes("PNG"))})], [display({"image/png": b64(image_bytes("PNG"))})])
    before = copy.deepcopy(nb)
    with pytest.raises(ImageConflictError) as caught:
        extract(nb, tmp_path)
    assert isinstance(caught.value, NotebookWriteError)
    message = str(caught.value)
    assert "report_cell1_output0.png" in message and "--force" in message and "\n" not in message
    assert sorted(p.name for p in folder.iterdir()) == ["report_cell1_output0.png"]
    assert (folder / "report_cell1_output0.png").read_bytes() == b"someone else's"
    assert nb == before


def test_all_conflicts_are_reported_in_one_error(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):
        (folder / f"report_cell{i}_output0.png").write_bytes(b"x")
    nb = notebook(*[[display({"image/png": b64(image_bytes("PNG"))})] for _ in range(3)])
    with pytest.raises(ImageConflictError, match=r"and 2 more"):
        extract(nb, tmp_path)


def test_same_source_overwrites_and_other_source_with_same_stem_conflicts(tmp_path: Path) -> None:
    extract(notebook([display({"image/png": b64(image_bytes("PNG", color=(1, 1, 1)))})]), tmp_path)
    second = image_bytes("PNG", color=(9, 9, 9))
    report = extract(notebook([display({"image/png": b64(second)})]), tmp_path)
    assert report.written[0].read_bytes() == second
    other = notebook([display({"image/png": b64(image_bytes("PNG"))})])
    with pytest.raises(ImageConflictError):
        extract(other, tmp_path, source_id="/elsewhere/report.ipynb")
    assert report.written[0].read_bytes() == second
    # A different stem never collides.
    assert extract(other, tmp_path, source_id="/elsewhere/summary.ipynb", stem="summary").broken == 0
    manifest = json.loads((tmp_path / "images" / MANIFEST_NAME).read_text())
    assert manifest == {"report_cell0_output0.png": SOURCE, "summary_cell0_output0.png": "/elsewhere/summary.ipynb"}


def test_overwrite_images_replaces_foreign_files_and_claims_them(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "report_cell0_output0.png").write_bytes(b"old")
    (folder / MANIFEST_NAME).write_text("{not json")  # unreadable manifest: nothing is ours
    raw = image_bytes("PNG")
    with pytest.raises(ImageConflictError):
        extract(notebook([display({"image/png": b64(raw)})]), tmp_path)
    extract(notebook([display({"image/png": b64(raw)})]), tmp_path, overwrite_images=True)
    assert (folder / "report_cell0_output0.png").read_bytes() == raw
    assert json.loads((folder / MANIFEST_NAME).read_text()) == {"report_cell0_output0.png": SOURCE}
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST_NAME, "report_cell0_output0.png"]  # no temp files


def test_a_directory_in_the_way_is_a_conflict_even_with_overwrite(tmp_path: Path) -> None:
    (tmp_path / "images" / "report_cell0_output0.png").mkdir(parents=True)
    with pytest.raises(ImageConflictError, match="directory"):
        extract(notebook([display({"image/png": b64(image_bytes("PNG"))})]), tmp_path, overwrite_images=True)


# --- real kernels ---------------------------------------------------------------------------------


def decoded(output, mime: str) -> bytes:
    value = output["data"][mime]
    return base64.b64decode("".join(value) if isinstance(value, list) else value)


PLOT = "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
MAKE = (
    "import io\nfrom PIL import Image as PILImage\nfrom IPython.display import Image, SVG, display\n"
    "def make(fmt, size, color):\n"
    "    buf = io.BytesIO()\n"
    "    PILImage.new('RGB', size, color).save(buf, fmt)\n"
    "    return buf.getvalue()\n"
)


@pytest.mark.kernel
@pytest.mark.usefixtures("no_leaked_kernels")
def test_real_kernel_images_are_extracted(tmp_path: Path) -> None:
    nb = make_notebook(
        PLOT + "plt.plot([1, 3, 2])\nplt.show()",
        MAKE + "display(Image(data=make('JPEG', (41, 23), (0, 128, 0)), format='jpeg'))",
        f"SVG({SVG!r})",
        "for i in range(2):\n    plt.figure(figsize=(2, 2))\n    plt.plot([0, i])\n    plt.show()\n"
        "display(Image(data=make('PNG', (12, 34), (5, 6, 7)), format='png'))",
    )
    result = nbrun.execute(nb, ExecuteOptions())
    assert result.ok, result.message
    pngs = {(c, i): decoded(nb.cells[c].outputs[i], "image/png") for c, i in [(0, 0), (3, 0), (3, 1), (3, 2)]}
    out_dir = tmp_path / "out"
    report = extract_images(
        nb,
        stem="demo",
        images_dir=out_dir / "demo_files",
        notebook_dir=out_dir,
        options=FileOptions(extract_images=out_dir / "demo_files", strip_images=True),
        source_id=str(tmp_path / "demo.ipynb"),
    )
    assert report.broken == 0 and report.warnings == []
    names = [p.name for p in report.written]
    assert names == [
        "demo_cell0_output0.png",
        "demo_cell1_output0.png",
        "demo_cell2_output0.svg",
        "demo_cell3_output0.png",
        "demo_cell3_output1.png",
        "demo_cell3_output2.png",
    ]
    for path in report.written:
        assert path.stat().st_size > 0
        if path.suffix == ".png":
            with Image.open(path) as im:
                im.load()
                assert im.format == "PNG"
    assert [p.read_bytes() for p in report.written if p.name != names[1] and p.suffix == ".png"] == list(pngs.values())
    with Image.open(report.written[1]) as im:
        assert im.size == (41, 23)
    with Image.open(report.written[5]) as im:
        assert im.size == (12, 34)
    assert "<svg" in report.written[2].read_text(encoding="utf-8")
    for cell, index, mime, name in [
        (0, 0, "image/png", names[0]),
        (1, 0, "image/jpeg", names[1]),
        (2, 0, "image/svg+xml", names[2]),
        (3, 2, "image/png", names[5]),
    ]:
        output = nb.cells[cell].outputs[index]
        assert output.metadata["filenames"] == {mime: f"demo_files/{name}"}
        assert mime not in output.data and "text/plain" in output.data
    nbformat.validate(nb)


@pytest.mark.kernel
@pytest.mark.usefixtures("no_leaked_kernels")
def test_real_kernel_image_updated_through_display_id(tmp_path: Path) -> None:
    nb = make_notebook(
        MAKE + "handle = display(Image(data=make('PNG', (10, 10), (255, 0, 0)), format='png'), display_id=True)",
        "handle.update(Image(data=make('PNG', (25, 15), (0, 0, 255)), format='png'))",
        PLOT + "plt.plot([1, 2])\nplt.show()",
    )
    result = nbrun.execute(nb, ExecuteOptions())
    assert result.ok, result.message
    updated = nb.cells[0].outputs[0]
    expected = decoded(updated, "image/png")
    plot = decoded(nb.cells[2].outputs[0], "image/png")
    report = extract_images(
        nb,
        stem="upd",
        images_dir=tmp_path,
        notebook_dir=tmp_path,
        options=FileOptions(extract_images=tmp_path),
        source_id="upd",
    )
    assert report.broken == 0
    assert [p.name for p in report.written] == ["upd_cell0_output0.png", "upd_cell2_output0.png"]
    assert report.written[0].read_bytes() == expected
    assert report.written[1].read_bytes() == plot
    with Image.open(report.written[0]) as im:
        assert im.size == (25, 15) and im.convert("RGB").getpixel((3, 3)) == (0, 0, 255)
    assert updated["metadata"]["filenames"] == {"image/png": "upd_cell0_output0.png"}
    assert nb.cells[2].outputs[0]["metadata"]["filenames"] == {"image/png": "upd_cell2_output0.png"}
    assert "image/png" in updated["data"]
