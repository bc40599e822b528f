"""Following an output's ``metadata.filenames`` back to a file: only to images nbrun extracted for it.

An executed notebook's outputs come from its kernel (or from a cache entry),
so their ``metadata.filenames`` may name any path: ``/proc/self/environ``,
``../../.ssh/id_rsa``. The HTML page and the run record inline the files
these links name, so every reader goes through :class:`ImageLinks`, which
follows a link only to a file that the ownership record of its folder
(``.nbrun-images.json``, written by ``nbrun.images.extract``) says nbrun extracted
for this very notebook. Anything else is never opened; :meth:`ImageLinks.refusals`
words one warning per such link. Links that are URLs, or relative links of a
remote notebook, name no local file and are left alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from ..execution.cell_label import cell_label
from ..storage.locations import Where, is_url

MANIFEST_NAME = ".nbrun-images.json"
_SHOWN = 120  # characters of a refused link quoted in its warning


def image_owner(target: Where) -> str:
    """The name the ownership record gives the notebook written to *target*."""
    return str(target.resolve()) if isinstance(target, Path) else target.display


def read_manifest(path: Path) -> dict[str, str]:
    """The ownership manifest; missing or unreadable means nothing is ours."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


class ImageLinks:
    """The checked way to follow ``metadata.filenames`` of the notebook written to one target."""

    def __init__(self, notebook_dir: Path | None, owner: str) -> None:
        self.notebook_dir = notebook_dir  # where relative links start (None: a remote notebook)
        self.owner = owner
        self._manifests: dict[Path, dict[str, str]] = {}

    @classmethod
    def for_target(cls, target: Where) -> ImageLinks:
        notebook_dir = target.resolve().parent if isinstance(target, Path) else None
        return cls(notebook_dir, image_owner(target))

    def follow(self, link: object) -> Path | None:
        """The extracted file *link* names, or None (not a local file, or not extracted for this notebook)."""
        path, refused = self._check(link)
        return None if refused else path

    def read(self, link: object) -> bytes | None:
        """The bytes of the extracted file *link* names, or None (see :meth:`follow`; a vanished file too)."""
        path = self.follow(link)
        try:
            return path.read_bytes() if path is not None else None
        except OSError:
            return None

    def refusals(self, nb: NotebookNode) -> list[str]:
        """One warning per link in *nb* to a local file that nbrun did not extract for this notebook."""
        warnings = []
        for where, mime, link in _links(nb):
            if self._check(link)[1]:
                shown = link if len(link) <= _SHOWN else link[:_SHOWN] + "..."
                warnings.append(
                    f"{where}: metadata.filenames[{mime[:_SHOWN]!r}] names {shown!r}, which is not "
                    "an image nbrun extracted for this notebook; not read"
                )
        return warnings

    def _check(self, link: object) -> tuple[Path | None, bool]:
        """(the file, refused): (None, False) for a link naming no local file."""
        if not isinstance(link, str) or is_url(link):
            return None, False
        path = Path(link)
        if not path.is_absolute():
            if self.notebook_dir is None:
                return None, False  # relative to a remote notebook
            path = self.notebook_dir / path
        path = Path(os.path.normpath(path))
        try:
            real = Path(os.path.realpath(path))
        except (OSError, ValueError):
            return None, True
        folder = real.parent
        if folder not in self._manifests:
            self._manifests[folder] = read_manifest(folder / MANIFEST_NAME)
        owned = real.name != MANIFEST_NAME and self._manifests[folder].get(real.name) == self.owner
        return (path, False) if owned else (None, True)


def _links(nb: NotebookNode) -> Iterator[tuple[str, str, str]]:
    """(where, mime, link) of every string in an output's ``metadata.filenames``."""
    for ci, cell in enumerate(nb.get("cells", [])):
        for oi, output in enumerate(cell.get("outputs", []) if cell.get("cell_type") == "code" else []):
            metadata: Any = output.get("metadata") if isinstance(output, dict) else None
            filenames = metadata.get("filenames") if isinstance(metadata, dict) else None
            for mime, link in filenames.items() if isinstance(filenames, dict) else ():
                if isinstance(link, str):
                    yield f"{cell_label(ci, cell.get('execution_count'))}, output {oi}", str(mime), link
