"""Papermill-compatible parameters: parse values, write Python or bash literals, inject, inspect."""

from __future__ import annotations

import datetime
import keyword
import math
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode
from nbformat.corpus.words import generate_corpus_id as random_cell_id
from nbformat.v4 import new_code_cell

from ..errors import ParameterError
from .parameter_cells import (
    BASH_NAME,
    INJECTED_TAG,
    PARAMETERS_TAG,
    DeclaredParameter,
    declared_parameters,
    tagged_cell,
)

PYTHON_LANGUAGES = {"python", "python3", "ipython", "ipython3"}
BASH_LANGUAGES = {"bash"}


def parse_value(text: str) -> Any:
    """A ``-p`` value as papermill reads it: exactly ``True``, ``False``, ``None``, then int, then float, else the string."""
    constants: dict[str, Any] = {"True": True, "False": False, "None": None}
    if text in constants:
        return constants[text]
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text


def python_literal(value: Any) -> str:
    """*value* as Python source that evaluates to an equal value."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return repr(value.isoformat())
    if isinstance(value, Mapping):
        items = ", ".join(f"{python_literal(key)}: {python_literal(item)}" for key, item in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    raise ParameterError(f"cannot write a Python literal for a {type(value).__name__} value: {value!r}")


def json_safe(value: Any) -> Any:
    """*value* for JSON metadata: NaN and infinities as strings, dates as ISO text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def bash_literal(value: Any) -> str:
    """*value* as a bash word, as papermill's BashTranslator writes it: text quoted by ``shlex.quote``."""
    if value is None:
        return "''"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return shlex.quote(str(value))
    if isinstance(value, str):
        return shlex.quote(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return shlex.quote(value.isoformat())
    if isinstance(value, (list, tuple)) and not any(isinstance(item, (list, tuple, Mapping)) for item in value):
        return "(" + " ".join(bash_literal(item) for item in value) + ")"
    raise ParameterError(
        f"cannot write a bash value for a {type(value).__name__} value (bash takes text, "
        "numbers, booleans and flat lists)"
    )


@dataclass(frozen=True)
class _Translator:
    """How parameters are written for one kernel language."""

    kind: str  # names the identifier rule in messages
    valid_name: Callable[[str], bool]
    assign: Callable[[str, Any], str]


_PYTHON = _Translator(
    "Python",
    lambda name: name.isidentifier() and not keyword.iskeyword(name),
    lambda name, value: f"{name} = {python_literal(value)}",
)
_BASH = _Translator(
    "bash", lambda name: BASH_NAME.fullmatch(name) is not None, lambda name, value: f"{name}={bash_literal(value)}"
)


def _translator(language: str) -> _Translator:
    if language in PYTHON_LANGUAGES:
        return _PYTHON
    if language in BASH_LANGUAGES:
        return _BASH
    stated = repr(language) if language else "a kernel that states no language"
    raise ParameterError(f"parameters can only be written for Python and bash kernels, not {stated}")


def check_encodable(parameters: Mapping[str, Any]) -> None:
    """Every text in the values can be written to a notebook (UTF-8); ParameterError naming the parameter."""
    for name, value in parameters.items():
        if not _encodable(value):
            raise ParameterError(
                f"parameter {name!r}: the value holds a character that cannot be encoded as UTF-8 "
                "(a byte that is not valid text?)"
            )


def _encodable(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, Mapping):
        return all(_encodable(key) and _encodable(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return all(_encodable(item) for item in value)
    return True


def parameters_source(parameters: Mapping[str, Any], language: str = "python") -> str:
    """The source of the injected cell, in *language* (a kernelspec's language: Python or bash)."""
    translator = _translator(language)
    check_encodable(parameters)
    for name in parameters:
        if not translator.valid_name(name):
            what = "a Python keyword" if keyword.iskeyword(name) else f"not a valid {translator.kind} identifier"
            raise ParameterError(f"parameter name {name!r} is {what}")
    lines = ["# Parameters"] + [translator.assign(name, value) for name, value in parameters.items()]
    return "\n".join(lines) + "\n"


def notebook_language(nb: NotebookNode) -> str:
    """The notebook's kernel language as its metadata says (``python`` when unstated)."""
    metadata = nb.get("metadata", {})
    for key in ("kernelspec", "language_info"):
        section = metadata.get(key)
        if isinstance(section, dict):
            language = (
                section.get("language") or section.get("name") if key == "language_info" else section.get("language")
            )
            if isinstance(language, str) and language:
                return language.lower()
    return "python"


@dataclass(frozen=True)
class Injection:
    """Where the parameters went: the cell index and whether a warning is due."""

    index: int
    replaced: bool
    warning: str | None


def inject_parameters(nb: NotebookNode, parameters: Mapping[str, Any], language: str) -> Injection:
    """Insert (or replace) the ``injected-parameters`` cell, papermill's way.

    *language* is that of the kernel that will run *nb* (its kernelspec's,
    not what the notebook's metadata claims): it decides how values are written.
    """
    cell = new_code_cell(parameters_source(parameters, language))
    cell.metadata["tags"] = [INJECTED_TAG]
    upgrade_to_cell_ids(nb)
    old = tagged_cell(nb, INJECTED_TAG)
    if old is not None:
        cell["id"] = nb.cells[old].get("id", cell.get("id"))
        nb.cells[old] = cell
        return Injection(old, True, None)
    anchor = tagged_cell(nb, PARAMETERS_TAG)
    if anchor is None:
        nb.cells.insert(0, cell)
        return Injection(0, False, "the notebook has no cell tagged 'parameters'; parameters were injected at the top")
    nb.cells.insert(anchor + 1, cell)
    return Injection(anchor + 1, False, None)


def upgrade_to_cell_ids(nb: NotebookNode) -> None:
    """Make *nb* nbformat 4.5 with an id on every cell (older minors allow no ids), as papermill does."""
    if nb.get("nbformat") != 4 or nb.get("nbformat_minor", 0) >= 5:
        return
    nb["nbformat_minor"] = 5
    for cell in nb.cells:
        if not cell.get("id"):
            cell["id"] = random_cell_id()


def apply_parameters(
    nb: NotebookNode, parameters: Mapping[str, Any] | None, *, language: str, strict: bool = False
) -> list[str]:
    """Inject *parameters* into *nb* (the ``prepare`` stage) in the kernel's *language*; return the warnings.

    No value from any source means no injected cell (papermill's rule). A name
    the ``parameters`` cell does not declare, a value of another type than the
    declared default's, and a notebook with no ``parameters`` cell are
    warnings, or ParameterError when *strict* (names and types: Python kernels only).
    """
    if not parameters:
        return []
    translator = _translator(language)
    if strict and tagged_cell(nb, PARAMETERS_TAG) is None:
        raise ParameterError("the notebook has no cell tagged 'parameters' (--strict-params)")
    parameters_source(parameters, language)  # names and values checked before anything changes
    warnings = []
    # only a Python parameters cell can be read for its names
    declared = {p.name: p for p in declared_parameters(nb)} if translator is _PYTHON else {}
    unknown = sorted(set(parameters) - set(declared)) if declared else []
    if unknown:
        message = f"not declared in the parameters cell: {', '.join(unknown)}"
        if strict:
            raise ParameterError(message)
        warnings.append(f"unknown parameter(s) {message}")
    for name, value in parameters.items():
        mismatch = _type_mismatch(declared[name], value) if name in declared else None
        if mismatch is not None:
            if strict:
                raise ParameterError(mismatch)
            warnings.append(mismatch)
    injection = inject_parameters(nb, parameters, language)
    if injection.warning:
        warnings.append(injection.warning)
    return warnings


_NUMBERS = {"int": (int,), "float": (int, float), "complex": (int, float, complex)}
_KNOWN_TYPES: dict[str, tuple[type, ...]] = {
    **_NUMBERS,
    "str": (str,),
    "bool": (bool,),
    "list": (list, tuple),
    "tuple": (list, tuple),
    "dict": (Mapping,),
}


def _type_mismatch(declared: DeclaredParameter, value: Any) -> str | None:
    """A one-line warning when *value* is not of the type the parameters cell declares (annotation, else default)."""
    kind = declared.annotation or declared.inferred_type
    accepted = _KNOWN_TYPES.get(kind)
    if accepted is None or value is None:  # an expression, None or a type nbrun cannot tell: no verdict
        return None
    if isinstance(value, bool) and kind != "bool":
        accepted = ()  # True is an int to Python, not to a reader of the parameters cell
    if isinstance(value, accepted):
        return None
    article = "an" if kind[0] in "aeiou" else "a"
    return (
        f"parameter {declared.name!r}: the parameters cell declares {article} {kind} "
        f"(default {declared.default}), the value given is a {type(value).__name__}: {value!r}"
    )
