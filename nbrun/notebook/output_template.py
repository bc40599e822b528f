"""Output paths with ``{parameter}`` fields (``reports/{region}/{date}.ipynb``), for the CLI and the API alike.

A field takes the value given for the run first, then the default the
notebook's ``parameters`` cell declares, so a template may name a parameter
the run leaves at its default.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from ..errors import ParameterError
from ..storage.locations import Location, Where, as_where
from .parameter_cells import declared_parameters


def template_fields(template: Where) -> set[str]:
    """The parameter names *template* uses (``{date}``, ``{cfg[region]}`` -> ``cfg``)."""
    text = template.url if isinstance(template, Location) else str(template)
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ParameterError(f"output path {text!r} cannot be formatted: {exc}") from None
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in parsed if name}


def declared_defaults(nb: NotebookNode) -> dict[str, Any]:
    """The literal defaults of the notebook's ``parameters`` cell (an expression has none)."""
    defaults = {}
    for parameter in declared_parameters(nb):
        try:
            defaults[parameter.name] = ast.literal_eval(parameter.default)
        except (ValueError, SyntaxError, TypeError):
            continue
    return defaults


def render_output(
    template: Where, parameters: Mapping[str, Any], notebook: Callable[[], NotebookNode] | None = None
) -> Where:
    """*template* formatted with *parameters*, then the defaults of *notebook* (read only when a field needs it).

    Raises ParameterError naming the fields nothing sets, or a template that cannot be formatted.
    """
    text = template.url if isinstance(template, Location) else str(template)
    fields = template_fields(template)
    values = dict(parameters)
    if notebook is not None and fields - set(values):
        values = {**declared_defaults(notebook()), **values}
    missing = sorted(fields - set(values))
    if missing:
        named = ", ".join("{" + name + "}" for name in missing)
        raise ParameterError(
            f"output path {text!r} uses {named}, which no parameter sets and the parameters cell does not declare"
        )
    try:
        rendered = text.format(**values)
    except (ValueError, IndexError, AttributeError, KeyError) as exc:
        raise ParameterError(f"output path {text!r} cannot be formatted: {exc}") from None
    return as_where(rendered) if isinstance(template, Location) else Path(rendered)
