"""Write the image outputs of an executed notebook to files (no printing).

For each ``display_data`` / ``execute_result`` output of a code cell, the
preferred raster image (``image/png`` first, then JPEG, GIF, WebP, BMP, TIFF,
then any other ``image/*`` type Pillow can read) is written as PNG, and an
``image/svg+xml`` payload, when present, is *also* written as ``.svg`` text
with the same base name. PNG payloads are written byte for byte; other raster
types are converted (first frame of an animation).

Names are ``<stem>_cell<i>_output<j>.png|.svg`` unless the output carries a
``metadata.filename`` (or ``metadata[mime].filename``), which is sanitised to
a plain base name inside ``images_dir``; clashes get ``_2``, ``_3``, ...

An output with a bad payload (invalid base64, truncated or mislabelled image,
decompression bomb) is left exactly as it was: nothing of it is written, a
warning is recorded and ``ImageReport.broken`` counts the bad payload.

Ownership: ``images_dir/.nbrun-images.json`` maps each file name to the
``source_id`` it was written for (the output notebook's path), and is read,
checked and rewritten under an exclusive lock so concurrent runs never lose
each other's entries. An existing file is replaced only when it
belongs to the same source or ``overwrite_images`` is set; otherwise
``ImageConflictError`` is raised before any file is written. Two notebooks
with the same stem sharing one ``images_dir`` therefore conflict instead of
overwriting each other silently.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from nbformat import NotebookNode
from PIL import Image, UnidentifiedImageError

from ..errors import ImageConflictError, ImageWriteError
from ..execution.cell_label import cell_label
from ..options import FileOptions
from ..result import ImageReport
from ..storage.atomic import write_text_atomic
from ..storage.file_lock import manifest_lock
from ..storage.leftovers import sweep_temp_files
from .links import MANIFEST_NAME, read_manifest

SVG_MIME = "image/svg+xml"
_RASTER_PREFERENCE = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff")
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".svg"}
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_PNG_MODES = {"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"}
_MAX_BASE = 100


class _BadPayload(Exception):
    """A payload that cannot be decoded as its declared type."""


@dataclass
class _Item:
    mime: str
    name: str


@dataclass
class _Planned:
    cell: int
    index: int
    output: dict[str, Any]
    items: list[_Item]


def extract_images(
    nb: NotebookNode, *, stem: str, images_dir: Path, notebook_dir: Path, options: FileOptions, source_id: str
) -> ImageReport:
    """Write the images of *nb* into *images_dir* and link them in the notebook.

    Adds ``metadata.filenames[mime]`` (relative POSIX path from *notebook_dir*)
    to each output written and, with ``options.strip_images``, removes the
    written payloads from ``output.data``. Raises ImageConflictError (before
    writing anything) or ImageWriteError; bad payloads only warn.
    """
    stem = _clean(stem) or "notebook"
    notes: list[str] = []
    plan, broken = _plan(nb, stem, notes)
    if not plan:
        return ImageReport([], notes, broken)
    images_dir = Path(images_dir)
    # a first check touches nothing; the one that counts is repeated under the lock
    _check_conflicts(plan, images_dir, read_manifest(images_dir / MANIFEST_NAME), source_id, options.overwrite_images)
    try:
        images_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageWriteError(images_dir, f"cannot create folder: {exc.strerror or exc}") from None
    sweep_temp_files(images_dir)  # half-written images of a killed nbrun
    with manifest_lock(images_dir):
        manifest = read_manifest(images_dir / MANIFEST_NAME)
        _check_conflicts(plan, images_dir, manifest, source_id, options.overwrite_images)
        # Claim the names first: a crash mid-way must not leave our files unowned.
        manifest.update({item.name: source_id for entry in plan for item in entry.items})
        text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        write_text_atomic(text.encode("utf-8"), images_dir / MANIFEST_NAME, ImageWriteError)
    written: list[Path] = []
    for entry in plan:
        contents: list[bytes] = []
        for item in entry.items:
            try:
                contents.append(_render(entry.output["data"][item.mime], item.mime))
            except _BadPayload as exc:  # pass 1 accepted it, so this is unexpected
                notes.append(_warning(stem, entry.cell, entry.index, item.mime, str(exc)))
                broken += 1
        if len(contents) != len(entry.items):
            continue
        paths = [images_dir / item.name for item in entry.items]
        for path, content in zip(paths, contents):
            write_text_atomic(content, path, ImageWriteError)
        del contents
        written.extend(paths)
        _link(entry, paths, notebook_dir, options.strip_images)
    return ImageReport(written, notes, broken)


def _plan(nb: NotebookNode, stem: str, notes: list[str]) -> tuple[list[_Planned], int]:
    """Validate every image payload (one at a time) and choose file names."""
    plan: list[_Planned] = []
    broken = 0
    taken = {MANIFEST_NAME.casefold()}
    for ci, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for oi, output in enumerate(cell.get("outputs", [])):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = output.get("data")
            if not isinstance(data, dict):
                continue
            mimes = _chosen_mimes(data)
            bad = False
            for mime in mimes:
                try:
                    _render(data[mime], mime)
                except _BadPayload as exc:
                    notes.append(_warning(stem, ci, oi, mime, str(exc)))
                    broken += 1
                    bad = True
            if bad or not mimes:
                continue
            metadata = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
            items = []
            for mime in mimes:
                ext = ".svg" if mime == SVG_MIME else ".png"
                base = _custom_base(metadata, mime) or f"{stem}_cell{ci}_output{oi}"
                items.append(_Item(mime, _unique(base, ext, taken)))
            plan.append(_Planned(ci, oi, output, items))
    return plan, broken


def _chosen_mimes(data: dict[str, Any]) -> list[str]:
    """The raster mime to write (first by preference) and the SVG mime, if any."""
    others = sorted(m for m in data if m.startswith("image/") and m not in _RASTER_PREFERENCE and m != SVG_MIME)
    chosen = [next((m for m in (*_RASTER_PREFERENCE, *others) if m in data and _formats(m)), None)]
    if SVG_MIME in data:
        chosen.append(SVG_MIME)
    return [m for m in chosen if m is not None]


def _formats(mime: str) -> list[str]:
    """Pillow formats that can open *mime* (empty: not a raster type we read)."""
    Image.init()
    return sorted(fmt for fmt, m in Image.MIME.items() if m == mime and fmt in Image.OPEN)


def _warning(stem: str, cell: int, index: int, mime: str, reason: str) -> str:
    return f"{stem}: {cell_label(cell)}, output {index}: {mime}: {reason}; image not extracted"


def _render(value: Any, mime: str) -> bytes:
    """The bytes to write for one payload; raises _BadPayload."""
    text = _join(value, mime)
    if mime == SVG_MIME:
        if "<svg" not in text.lower():
            raise _BadPayload("not SVG text")
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            raise _BadPayload("SVG text is not valid Unicode") from None
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except ValueError:
        raise _BadPayload("invalid base64") from None
    if not raw:
        raise _BadPayload("empty payload")
    formats = _formats(mime)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=formats) as im:
                im.verify()
            with Image.open(io.BytesIO(raw), formats=formats) as im:
                im.load()
                return raw if mime == "image/png" else _to_png(im)
    except UnidentifiedImageError:
        raise _BadPayload(f"bytes are not a readable {mime} image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _BadPayload(f"image too large (over Pillow's {Image.MAX_IMAGE_PIXELS}-pixel limit)") from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many unrelated types for bad data
        detail = " ".join(str(exc).split())[:120]
        raise _BadPayload(f"not a valid {mime} image ({type(exc).__name__}: {detail})") from None


def _join(value: Any, mime: str) -> str:
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "".join(value)
    if isinstance(value, str):
        return value
    raise _BadPayload(f"payload is {type(value).__name__}, not text")


def _to_png(im: Image.Image) -> bytes:
    if im.mode not in _PNG_MODES:
        im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
    buffer = io.BytesIO()
    im.save(buffer, "PNG")
    return buffer.getvalue()


def _custom_base(metadata: dict[str, Any], mime: str) -> str:
    """The sanitised base of a ``filename`` from the output metadata, or ''."""
    per_mime = metadata.get(mime)
    for source in (per_mime if isinstance(per_mime, dict) else {}, metadata):
        name = source.get("filename")
        if isinstance(name, str):
            return _sanitise(name)
    return ""


def _sanitise(name: str) -> str:
    """A plain base name (no folder, no extension) that is safe in any folder."""
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    root, suffix = os.path.splitext(name)
    if suffix.lower() in _IMAGE_SUFFIXES:
        name = root
    name = _clean(name)
    if name.split(".", 1)[0].strip().upper() in _RESERVED:
        return ""
    return name


def _clean(text: str) -> str:
    """Keep letters, digits, ``-_. ``; no ``..``, no leading/trailing dots or spaces."""
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = "".join(ch if ch.isalnum() or ch in "-_. " else "_" for ch in text)
    text = re.sub(r"\.{2,}", ".", text)
    return text[:_MAX_BASE].strip(". ")


def _unique(base: str, ext: str, taken: set[str]) -> str:
    """``base + ext``, or ``base_2 + ext``, ... : first not taken (case-insensitive)."""
    name, n = base + ext, 1
    while name.casefold() in taken:
        n += 1
        name = f"{base}_{n}{ext}"
    taken.add(name.casefold())
    return name


def _check_conflicts(
    plan: list[_Planned], images_dir: Path, manifest: dict[str, str], source_id: str, overwrite: bool
) -> None:
    conflicts: list[Path] = []
    for entry in plan:
        for item in entry.items:
            path = images_dir / item.name
            if path.is_dir():
                raise ImageConflictError(path, "is a directory; cannot write an image there")
            if os.path.lexists(path) and not overwrite and manifest.get(item.name) != source_id:
                conflicts.append(path)
    if conflicts:
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        raise ImageConflictError(
            conflicts[0], f"exists and was not written by nbrun for this notebook{more}; use --force to overwrite"
        )


def _link(entry: _Planned, paths: list[Path], notebook_dir: Path, strip: bool) -> None:
    """Record ``metadata.filenames`` and, with *strip*, drop the written payloads."""
    output = entry.output
    metadata = output.get("metadata")
    if not isinstance(metadata, dict):
        metadata = output["metadata"] = NotebookNode()
    filenames = metadata.get("filenames")
    if not isinstance(filenames, dict):
        filenames = metadata["filenames"] = NotebookNode()
    for item, path in zip(entry.items, paths):
        filenames[item.mime] = _relative(path, notebook_dir)
        if strip:
            del output["data"][item.mime]


def _relative(path: Path, start: Path) -> str:
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(start))
    except ValueError:  # another drive on Windows
        rel = os.path.abspath(path)
    return PurePath(rel).as_posix()
