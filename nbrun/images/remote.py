"""Images for a remote folder: extracted into a local staging copy, then uploaded."""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from nbformat import NotebookNode

from ..errors import ImageWriteError, NotebookWriteError
from ..options import FileOptions
from ..storage.location_failures import describe_failure
from ..storage.locations import Location, Where, keep_folder
from .extract import extract_images
from .links import MANIFEST_NAME


def extract_images_to(
    nb: NotebookNode, *, stem: str, images_dir: Location, target: Where, options: FileOptions, source_id: str
) -> tuple[list[str], list[str], int]:
    """Extract images into a local staging copy of the remote folder, then upload what was written.

    The staging copy holds the folder's manifest and empty stand-ins for its
    existing files, so ownership conflicts are detected exactly as locally.
    Returns (written URLs, warnings, broken count).
    """
    stage = Path(tempfile.mkdtemp(prefix=f"{stem}-images-", dir=keep_folder()))  # kept if an upload fails
    depth, link = _relative_link(images_dir, target)
    notebook_dir = stage.joinpath(*["n"] * depth) if depth else stage
    local_images = (notebook_dir / link).resolve() if link else stage / "images"
    notebook_dir = notebook_dir if link else local_images  # no relative link: names, made URLs below
    local_images.mkdir(parents=True, exist_ok=True)
    fs, folder = images_dir.filesystem()
    try:
        existing = [posixpath.basename(p) for p in fs.ls(folder, detail=False)] if fs.isdir(folder) else []
    except FileNotFoundError:
        existing = []
    except Exception as exc:  # noqa: BLE001
        raise ImageWriteError(images_dir.display, describe_failure(exc, "list")) from None
    for name in existing:
        if name == MANIFEST_NAME:
            (local_images / name).write_bytes((images_dir / name).read_bytes())
        else:
            (local_images / name).touch()
    try:
        report = extract_images(
            nb, stem=stem, images_dir=local_images, notebook_dir=notebook_dir, options=options, source_id=source_id
        )
    except NotebookWriteError:  # a conflict: nothing was written, nothing to keep
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if not link:
        absolute_image_links(nb, images_dir.display)
    uploaded = []
    for path in [*(Path(written) for written in report.written), local_images / MANIFEST_NAME]:
        if path.exists():
            (images_dir / path.name).upload(path)
            if path.name != MANIFEST_NAME:
                uploaded.append((images_dir / path.name).display)
    shutil.rmtree(stage, ignore_errors=True)
    return uploaded, list(report.warnings), report.broken


def absolute_image_links(nb: NotebookNode, base: str) -> None:
    """Prefix the relative ``metadata.filenames`` links with *base* (images on another store than the notebook)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            filenames = output.get("metadata", {}).get("filenames")
            if isinstance(filenames, dict):
                for mime, link in filenames.items():
                    if isinstance(link, str) and "://" not in link and not link.startswith("/"):
                        filenames[mime] = posixpath.join(base, link)


def _relative_link(images_dir: Location, target: Where) -> tuple[int, str]:
    """How the notebook at *target* reaches *images_dir*: (levels up, relative path); (0, '') if it cannot."""
    if not isinstance(target, Location) or target.protocol != images_dir.protocol:
        return 0, ""
    a, b = urlsplit(images_dir.url), urlsplit(target.url)
    if a.netloc != b.netloc:
        return 0, ""
    link = posixpath.relpath(a.path or "/", posixpath.dirname(b.path) or "/")
    return link.split("/").count(".."), link
