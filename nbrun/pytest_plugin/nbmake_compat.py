"""nbmake's test-mode cell metadata: ``nbmake.mock`` and ``nbmake.post_cell_execute``.

After a cell that ran without error, nbmake sets each ``mock`` variable to
its value and then runs the ``post_cell_execute`` lines, in the same kernel.
nbrun does the same through ``ExecuteOptions.after_cell``; values are written
with ``repr`` (so strings with quotes work, which nbmake's quoting does not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbformat import NotebookNode


def nbmake_after_cell(cell: NotebookNode) -> str | None:
    """The code nbmake would run after *cell* (``None`` when it has no such metadata)."""
    settings = cell.get("metadata", {}).get("nbmake")
    if not isinstance(settings, dict):
        return None
    lines = [f"{name} = {_literal(value)}" for name, value in (settings.get("mock") or {}).items()]
    post = settings.get("post_cell_execute") or []
    lines.extend([post] if isinstance(post, str) else [str(line) for line in post])
    return "\n".join(lines) or None


def _literal(value: Any) -> str:
    """A Python literal for a JSON value (true/false/null become True/False/None)."""
    return repr(value)


def uses_nbmake_cells(nb: dict[str, Any]) -> bool:
    """True when some cell carries ``metadata.nbmake``."""
    return any(isinstance(cell.get("metadata", {}).get("nbmake"), dict) for cell in nb.get("cells", []))
