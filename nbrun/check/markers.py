"""nbval's per-cell markers: comment lines and cell tags, read as nbval reads them.

A comment marker is a source line that, stripped, starts with ``#`` and whose
text after the ``#`` characters is exactly the marker name. Tags are the
markers' lower-case, dash-separated names (``nbval-ignore-output``...), plus
``raises-exception``. When a comment and a tag set the same thing, the comment
wins; among several, the last one wins.
"""

from __future__ import annotations

import copy
import enum
from dataclasses import dataclass

from nbformat import NotebookNode

INJECTED_TAG = "injected-parameters"


class Marker(str, enum.Enum):
    IGNORE_OUTPUT = "ignore-output"
    CHECK_OUTPUT = "check-output"
    RAISES_EXCEPTION = "raises-exception"
    SKIP = "skip"


COMMENT_MARKERS = {
    "NBVAL_IGNORE_OUTPUT": Marker.IGNORE_OUTPUT,
    "PYTEST_VALIDATE_IGNORE_OUTPUT": Marker.IGNORE_OUTPUT,  # nbval's older spelling
    "NBVAL_CHECK_OUTPUT": Marker.CHECK_OUTPUT,
    "NBVAL_RAISES_EXCEPTION": Marker.RAISES_EXCEPTION,
    "NBVAL_SKIP": Marker.SKIP,
}
TAG_MARKERS = {name.lower().replace("_", "-"): marker for name, marker in COMMENT_MARKERS.items()}
TAG_MARKERS["raises-exception"] = Marker.RAISES_EXCEPTION


@dataclass(frozen=True)
class CellMarkers:
    """What the markers of one code cell ask for.

    ``check`` is True/False when the cell is marked check-output/ignore-output,
    None when unmarked (then the run's mode decides).
    """

    check: bool | None = None
    raises: bool = False
    skip: bool = False

    def compares(self, lax: bool) -> bool:
        """Whether this cell's outputs are compared in the given mode."""
        return not self.skip and (self.check if self.check is not None else not lax)


def _source_text(cell: NotebookNode) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _from_comments(source: str) -> list[Marker]:
    found = []
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("#"):
            marker = COMMENT_MARKERS.get(line.lstrip("#").strip())
            if marker is not None:
                found.append(marker)
    return found


def _from_tags(cell: NotebookNode) -> list[Marker]:
    tags = cell.get("metadata", {}).get("tags", [])
    if not isinstance(tags, list):
        return []
    return [TAG_MARKERS[tag] for tag in tags if isinstance(tag, str) and tag in TAG_MARKERS]


def cell_markers(cell: NotebookNode) -> CellMarkers:
    """The markers of a code cell (comments override tags)."""
    check: bool | None = None
    raises = skip = False
    for origin in (_from_tags(cell), _from_comments(_source_text(cell))):
        origin_check = None
        for marker in origin:
            if marker is Marker.IGNORE_OUTPUT:
                origin_check = False
            elif marker is Marker.CHECK_OUTPUT:
                origin_check = True
            elif marker is Marker.RAISES_EXCEPTION:
                raises = True
            else:
                skip = True
        check = origin_check if origin_check is not None else check
    return CellMarkers(check=check, raises=raises, skip=skip)


def code_cells(nb: NotebookNode) -> list[tuple[int, NotebookNode]]:
    """The code cells that a check pairs up, with their indexes (injected parameters left out)."""
    return [
        (index, cell)
        for index, cell in enumerate(nb.cells)
        if cell.get("cell_type") == "code" and INJECTED_TAG not in cell.get("metadata", {}).get("tags", [])
    ]


def prepare_for_run(
    nb: NotebookNode, *, skip_tag: str = "skip-execution", raises_tag: str = "raises-exception"
) -> NotebookNode:
    """A copy of *nb* to execute: NBVAL_SKIP cells get *skip_tag*, NBVAL_RAISES_EXCEPTION cells *raises_tag*."""
    prepared = copy.deepcopy(nb)
    for cell in prepared.cells:
        if cell.get("cell_type") != "code":
            continue
        markers = cell_markers(cell)
        extra = [tag for tag, wanted in ((skip_tag, markers.skip), (raises_tag, markers.raises)) if wanted]
        if extra:
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            tags.extend(tag for tag in extra if tag not in tags)
    return prepared
