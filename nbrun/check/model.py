"""The typed inputs and outputs of an output check."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..execution.cell_label import cell_label

BUILTIN_SANITIZERS = ("addresses", "kernel-paths")
IGNORE_STDERR_TAG = "nbrun-ignore-stderr"


@dataclass(frozen=True)
class CheckOptions:
    """How stored and new outputs are compared.

    Attributes:
        lax: compare only cells marked check-output (nbval's ``--nbval-lax``).
        compare_images: compare raster images by decoded pixels; otherwise
            only how many images of which type each cell shows.
        image_tolerance: with ``compare_images``, the largest difference
            (0-255) of any colour channel for a pixel still to count as equal.
        sanitizers: the built-in sanitizers that are on (see BUILTIN_SANITIZERS).
        patterns: ``(regex, replacement)`` pairs from nbval sanitizer files,
            applied in order to both sides before the built-ins.
        ignore_stderr_tag: cells with this tag have their stderr left out.
        require_outputs: a notebook with no stored outputs at all is a
            mismatch (by default it passes: there is nothing to compare).
    """

    lax: bool = False
    compare_images: bool = False
    image_tolerance: int = 0
    sanitizers: tuple[str, ...] = BUILTIN_SANITIZERS
    patterns: tuple[tuple[str, str], ...] = ()
    ignore_stderr_tag: str = IGNORE_STDERR_TAG
    require_outputs: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.image_tolerance <= 255:
            raise ValueError(f"image_tolerance must be 0-255, got {self.image_tolerance}")
        unknown = set(self.sanitizers) - set(BUILTIN_SANITIZERS)
        if unknown:
            raise ValueError(f"unknown sanitizer(s): {', '.join(sorted(unknown))}")

    def with_changes(self, **changes: object) -> CheckOptions:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CellMismatch:
    """One kind of output of one cell that differs.

    Attributes:
        cell: index into the stored notebook's ``cells``.
        execution_count: the stored ``In [n]`` (None if never run).
        kind: the output compared: ``stdout``, ``stderr``, ``error``, a MIME
            type such as ``text/plain`` or ``image/png``.
        message: one line saying what differs.
        diff: a unified diff (expected -> got) for text; pixel figures for images.
    """

    cell: int
    execution_count: int | None
    kind: str
    message: str
    diff: str = ""

    @property
    def where(self) -> str:
        """``cell 3 (index 2, In [3])``, as every nbrun message names a cell."""
        return cell_label(self.cell, self.execution_count)

    def to_json(self) -> dict[str, Any]:
        return {
            "cell": self.cell,
            "execution_count": self.execution_count,
            "kind": self.kind,
            "message": self.message,
            "diff": self.diff,
        }


@dataclass(frozen=True)
class CheckReport:
    """The verdict for one notebook: which cells were compared and what differs."""

    compared: tuple[int, ...] = ()
    ignored: tuple[int, ...] = ()
    skipped: tuple[int, ...] = ()
    mismatches: tuple[CellMismatch, ...] = ()
    updated: bool = False
    update_error: str | None = None
    nothing_stored: bool = False  # no code cell of the stored notebook has an output or a prompt number
    outputs_required: bool = False  # CheckOptions.require_outputs

    @property
    def matches(self) -> bool:
        """True when every compared cell gave the stored outputs (and, if required, there were some)."""
        return not self.mismatches and not (self.nothing_stored and self.outputs_required)

    @property
    def passed(self) -> bool:
        """Matches, or the new outputs were written into the notebook (``--update``)."""
        return self.matches or self.updated

    @property
    def mismatched_cells(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(m.cell for m in self.mismatches))

    def summary_line(self) -> str:
        """One line: how many cells differ, or that everything matched."""
        cells = self.mismatched_cells
        if self.nothing_stored and not cells:
            required = " (--require-outputs)" if self.outputs_required else ""
            return f"nothing stored to compare: the notebook holds no outputs{required}"
        if not cells:
            return f"outputs match, {len(self.compared)} cell{'s' if len(self.compared) != 1 else ''} compared"
        listed = ", ".join(cell_label(cell) for cell in cells)
        return f"outputs differ in {len(cells)} of {len(self.compared)} compared cells: {listed}"

    def with_changes(self, **changes: object) -> CheckReport:
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "matches": self.matches,
            "compared_cells": list(self.compared),
            "ignored_cells": list(self.ignored),
            "skipped_cells": list(self.skipped),
            "mismatches": [m.to_json() for m in self.mismatches],
            "updated": self.updated,
        }
        if self.update_error is not None:
            data["update_error"] = self.update_error
        return data


__all__ = ["BUILTIN_SANITIZERS", "CellMismatch", "CheckOptions", "CheckReport"]
