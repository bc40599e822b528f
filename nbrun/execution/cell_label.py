"""How human-facing messages name a cell; machine records keep the 0-based index.

People count cells from 1 and know the ``In [N]`` prompt; nbconvert, JSON and
file names use the 0-based index into ``nb.cells``. Messages say all three:
``cell 3 (index 2, In [3])``.
"""

from __future__ import annotations

from typing import Any


def cell_label(index: int, execution_count: int | None = None) -> str:
    """``cell 3 (index 2, In [3])`` for index 2; the prompt only when the cell ran."""
    prompt = f", In [{execution_count}]" if execution_count is not None else ""
    return f"cell {index + 1} (index {index}{prompt})"


def notebook_cell_label(nb: Any, index: int) -> str:
    """:func:`cell_label` of cell *index* of notebook *nb*, with its prompt when it ran."""
    count = nb.cells[index].get("execution_count") if 0 <= index < len(nb.cells) else None
    return cell_label(index, count if isinstance(count, int) else None)
