"""What the run page needs from an executed notebook, as JSON-ready record fields.

The run record (``--json``) is the page's only source, so the facts a reader
needs later are copied into it here: the failing cell's source and
traceback, and small thumbnails of the image outputs (linked to the extracted
files when there are any; ``nbrun.images.links`` reads no other file).
"""

from __future__ import annotations

import base64
import io
import os
import socket
import warnings
from typing import Any

from nbformat import NotebookNode

from ..images.links import ImageLinks
from ..result import ExecutionResult
from ..storage.locations import Where

MAX_THUMBNAILS = 6
THUMBNAIL_BOX = (240, 160)
MAX_SVG_BYTES = 64 * 1024
_RASTER = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")
_SVG = "image/svg+xml"


def failure_facts(nb: NotebookNode, failed_cell: int | None) -> dict[str, Any]:
    """The failing cell's ``source`` and ``traceback`` (lines, ANSI codes kept); {} if none."""
    if failed_cell is None or not 0 <= failed_cell < len(nb.cells):
        return {}
    cell = nb.cells[failed_cell]
    traceback: list[str] = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            traceback.extend(str(line) for line in output.get("traceback", []))
    return {"source": _text(cell.get("source", "")), "traceback": traceback}


def image_thumbnails(nb: NotebookNode, links: ImageLinks | None, limit: int = MAX_THUMBNAILS) -> list[dict[str, Any]]:
    """Up to *limit* thumbnails of the image outputs, as record entries.

    Each entry has ``cell``, ``output``, ``mime``, ``width``/``height`` of the
    original when known, ``thumbnail`` (a ``data:`` URI) and ``file`` (the
    extracted file ``metadata.filenames`` names, as *links* follows it) when
    the image was extracted for this notebook (None: no file is read).
    Payloads that do not decode are left out.
    """
    entries: list[dict[str, Any]] = []
    for cell_index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        for output_index, output in enumerate(cell.get("outputs", [])):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            entry = _thumbnail_entry(output, links)
            if entry is None:
                continue
            entries.append({"cell": cell_index, "output": output_index, **entry})
            if len(entries) >= limit:
                return entries
    return entries


def _thumbnail_entry(output: dict[str, Any], links: ImageLinks | None) -> dict[str, Any] | None:
    data = output.get("data") or {}
    metadata = output.get("metadata") or {}
    found = metadata.get("filenames")
    filenames: dict[str, Any] = found if isinstance(found, dict) else {}
    mimes = [mime for mime in (*_RASTER, _SVG) if mime in data or mime in filenames]
    for mime in mimes:
        link = filenames.get(mime)
        file = links.follow(link) if links is not None else None
        if mime in data:
            raw = _payload(data[mime], mime)
        else:
            raw = links.read(link) if links is not None and file is not None else None
        if raw is None:
            continue
        thumbnail = _svg_uri(raw) if mime == _SVG else _raster_thumbnail(raw)
        if thumbnail is None:
            continue
        entry: dict[str, Any] = {"mime": mime, **thumbnail}
        if file is not None:
            entry["file"] = str(file)
        return entry
    return None


def _payload(value: Any, mime: str) -> bytes | None:
    try:
        text = _text(value)
        return text.encode("utf-8") if mime == _SVG else base64.b64decode(text, validate=False)
    except ValueError:
        return None


def _raster_thumbnail(raw: bytes) -> dict[str, Any] | None:
    from PIL import Image  # Pillow is imported only when a record has images

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as image:
                width, height = image.size
                image.draft("RGB", THUMBNAIL_BOX)
                small = image.convert("RGBA")
        small.thumbnail(THUMBNAIL_BOX)
        buffer = io.BytesIO()
        small.quantize(colors=128, method=Image.Quantize.FASTOCTREE).save(buffer, "PNG", optimize=True)
    except Exception:  # noqa: BLE001 - any undecodable payload is simply not shown
        return None
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"width": width, "height": height, "thumbnail": uri}


def _svg_uri(raw: bytes) -> dict[str, Any] | None:
    """SVG is shown as-is through ``<img>`` (which never runs its scripts), if small."""
    if len(raw) > MAX_SVG_BYTES:
        return None
    return {"thumbnail": "data:image/svg+xml;base64," + base64.b64encode(raw).decode("ascii")}


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def notebook_facts(result: ExecutionResult, target: Where) -> dict[str, Any]:
    """Optional run-record fields of one executed notebook: ``html``, ``images``, error ``source``/``traceback``."""
    facts: dict[str, Any] = {}
    if result.html_file is not None:
        facts["html"] = str(result.html_file)
    images = image_thumbnails(result.notebook, ImageLinks.for_target(target))
    if images:
        facts["images"] = images
    failure = failure_facts(result.notebook, result.failed_cell)
    if failure:
        facts["failure"] = failure
    return facts


def run_facts() -> dict[str, Any]:
    """Optional top-level run-record fields: where it ran."""
    return {"host": socket.gethostname(), "cwd": os.getcwd()}
