"""What a notebook's parameter cells hold: the declared defaults, an earlier run's injected values.

Reading only (papermill's tags ``parameters`` and ``injected-parameters``);
writing values into a notebook is ``nbrun.notebook.parameters``.
"""

from __future__ import annotations

import ast
import io
import re
import shlex
import tokenize
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode

from ..errors import ParameterError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
BASH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def tagged_cell(nb: NotebookNode, tag: str) -> int | None:
    """The index of the first cell carrying *tag*, or None."""
    for index, cell in enumerate(nb.cells):
        if tag in cell.get("metadata", {}).get("tags", []):
            return index
    return None


@dataclass(frozen=True)
class DeclaredParameter:
    """One assignment in the ``parameters`` cell."""

    name: str
    default: str
    inferred_type: str
    annotation: str | None
    comment: str | None


def declared_parameters(nb: NotebookNode) -> list[DeclaredParameter]:
    """The names, defaults, types and comments of the ``parameters`` cell (Python only)."""
    index = tagged_cell(nb, PARAMETERS_TAG)
    if index is None:
        return []
    source = nb.cells[index].source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"the parameters cell is not valid Python: {exc.msg} (line {exc.lineno})") from None
    comments = _line_comments(source)
    found = []
    for node in tree.body:
        target, annotation, value = _assignment(node)
        if target is None or value is None:
            continue
        default = ast.get_source_segment(source, value) or ""
        found.append(
            DeclaredParameter(
                name=target,
                default=default,
                inferred_type=_infer_type(value),
                annotation=ast.get_source_segment(source, annotation) if annotation is not None else None,
                comment=comments.get(node.end_lineno or node.lineno),
            )
        )
    return found


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, None, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.annotation, node.value
    return None, None, None


def _infer_type(value: ast.expr) -> str:
    try:
        return type(ast.literal_eval(value)).__name__
    except (ValueError, SyntaxError, TypeError):
        return "expression"


def _line_comments(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return comments


def kept_parameters(nb: NotebookNode) -> dict[str, Any] | None:
    """The values in the notebook's ``injected-parameters`` cell (an earlier run's), or None without one.

    A Python cell is read as papermill writes it (``name = literal``); a value
    that is not a literal is kept as its source text; a bash cell's
    ``name=value`` lines are read as shell words.
    """
    index = tagged_cell(nb, INJECTED_TAG)
    if index is None:
        return None
    source = nb.cells[index].get("source", "")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return _bash_assignments(source)
    values: dict[str, Any] = {}
    for node in tree.body:
        target, _, value = _assignment(node)
        if target is None or value is None:
            continue
        try:
            values[target] = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError):
            values[target] = ast.get_source_segment(source, value) or ""
    return values


def _bash_assignments(source: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for line in source.splitlines():
        name, equals, word = line.partition("=")
        if equals and BASH_NAME.fullmatch(name):
            try:
                values[name] = " ".join(shlex.split(word))
            except ValueError:
                values[name] = word
    return values


def drop_injected_cell(nb: NotebookNode) -> bool:
    """Remove the ``injected-parameters`` cell (``--clear-params``); True if there was one."""
    index = tagged_cell(nb, INJECTED_TAG)
    if index is None:
        return False
    del nb.cells[index]
    return True
