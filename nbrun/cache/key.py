"""The cache key: everything that can change a notebook's outputs, and nothing else.

Parts (each hashed on its own, so ``nbrun cache key`` can say which changed):
code cells in order with their execution-relevant metadata; the kernel
(name, language, version, interpreter); the interpreter's installed
packages; the injected parameters; the options that change results; the
declared inputs by content; the notebook's own environment (its digest), when
it declares one. Markdown, cell ids, outputs and other metadata are left out:
editing prose never re-runs a notebook.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbformat import NotebookNode, from_dict

from ..options import ExecuteOptions
from .environment import KernelIdentity

KEY_FORMAT = "nbrun-cache-1"
# Cell metadata that changes how a cell runs (nbmake's mocks and post-cell code).
EXECUTION_CELL_METADATA = ("nbmake",)
# Notebook metadata that changes how the notebook runs (Jupyter Book / nbmake execution settings).
EXECUTION_NOTEBOOK_METADATA = ("execution",)
INPUTS_METADATA = ("nbrun", "inputs")


@dataclass(frozen=True)
class CacheKey:
    """A notebook's cache key: the digest, each part's digest and what each part holds."""

    digest: str
    part_digests: dict[str, str]
    parts: dict[str, Any]
    warnings: tuple[str, ...] = field(default=())


def compute_key(
    nb: NotebookNode,
    options: ExecuteOptions,
    kernel: KernelIdentity,
    notebook_dir: Path,
    extra_inputs: Iterable[str] = (),
    *,
    secret_digests: Mapping[str, str] | None = None,
) -> CacheKey:
    """The key of *nb*, a notebook whose parameters are already injected (see :func:`prepared_copy`).

    *notebook_dir* anchors relative input globs and the default kernel cwd;
    *extra_inputs* are globs given on the command line, relative to the
    current directory. *secret_digests* are the run's secrets as keyed
    digests (``Secrets.keyed_digests``): a changed secret changes the key,
    and the key reveals nothing of it.
    """
    warnings: list[str] = []
    declared = _declared_inputs(nb)
    inputs = _hash_inputs(declared, notebook_dir, warnings, "metadata.nbrun.inputs")
    inputs.update(_hash_inputs(list(extra_inputs), Path.cwd(), warnings, "--cache-input"))
    parts: dict[str, Any] = {
        "cells": _code_cells(nb, options),
        "kernel": kernel.describe(),
        "packages": list(kernel.packages),
        "parameters": _json_ready(options.parameters),
        "options": result_options(nb, options, notebook_dir),
        "inputs": inputs,
    }
    if options.environment is not None:  # the notebook's own environment: a changed pin or lock re-runs it
        parts["environment"] = {
            "digest": options.environment.digest,
            "dependencies": list(options.environment.declared),
        }
    if secret_digests:  # only with secrets, so every other key stays as it was
        parts["secrets"] = dict(sorted(secret_digests.items()))
    part_digests = {name: _digest(value) for name, value in parts.items()}
    digest = _digest({"format": KEY_FORMAT, **part_digests})
    return CacheKey(digest, part_digests, parts, tuple(warnings))


def prepared_copy(nb: NotebookNode, options: ExecuteOptions, *, language: str, inject: bool = True) -> NotebookNode:
    """A light copy of *nb* (no outputs) with ``options.parameters`` injected as a run would.

    *language* is the run's kernel's (its kernelspec's), which decides how parameters are written.

    Raises ParameterError exactly when the run would (e.g. strict parameters).
    ``inject=False`` for a notebook the pipeline's ``prepare`` stage already
    injected (injecting again would give the same cells: the key is the same).
    """
    from ..notebook.parameters import apply_parameters

    light: NotebookNode = from_dict(
        {
            "nbformat": nb.get("nbformat", 4),
            "nbformat_minor": nb.get("nbformat_minor", 5),
            "metadata": nb.get("metadata", {}),
            "cells": [
                {
                    "cell_type": cell.get("cell_type"),
                    "source": cell.get("source", ""),
                    "metadata": cell.get("metadata", {}),
                }
                for cell in nb.cells
            ],
        }
    )
    if inject:
        apply_parameters(light, options.parameters, language=language, strict=options.strict_parameters)
    return light


def result_options(nb: NotebookNode, options: ExecuteOptions, notebook_dir: Path) -> dict[str, Any]:
    """The options (and notebook execution metadata) that can change outputs."""
    cwd = options.cwd
    stdin = None
    if options.stdin_lines is not None:
        stdin = hashlib.sha256("\n".join(options.stdin_lines).encode()).hexdigest()
    metadata = nb.get("metadata", {})
    return {
        "allow_errors": options.allow_errors,
        "timeout": options.timeout,
        "notebook_timeout": options.notebook_timeout,
        "restart_on_death": options.restart_on_death,
        "max_output_bytes": options.max_output_bytes,
        "skip_tag": options.skip_tag,
        "raises_tag": options.raises_tag,
        "store_widget_state": options.store_widget_state,
        "record_timing": options.record_timing,
        "extra_kernel_args": list(options.extra_kernel_args),
        "stdin_sha256": stdin,
        # The notebook's own folder is written relatively, so a cache moves with the checkout.
        "cwd": "<notebook folder>" if cwd is None or _same_path(cwd, notebook_dir) else str(cwd),
        "notebook_metadata": {name: metadata[name] for name in EXECUTION_NOTEBOOK_METADATA if name in metadata},
    }


def _code_cells(nb: NotebookNode, options: ExecuteOptions) -> list[dict[str, Any]]:
    relevant_tags = {options.skip_tag, options.raises_tag}
    cells = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata", {})
        entry: dict[str, Any] = {"source": _text(cell.get("source", ""))}
        tags = sorted(tag for tag in metadata.get("tags", []) if tag in relevant_tags)
        if tags:
            entry["tags"] = tags
        for name in EXECUTION_CELL_METADATA:
            if name in metadata:
                entry[name] = metadata[name]
        cells.append(entry)
    return cells


def _declared_inputs(nb: NotebookNode) -> list[str]:
    section: Any = nb.get("metadata", {})
    for name in INPUTS_METADATA:
        section = section.get(name) if isinstance(section, dict) else None
    if isinstance(section, str):
        return [section]
    if isinstance(section, list):
        return [str(item) for item in section]
    return []


def _hash_inputs(patterns: list[str], base: Path, warnings: list[str], origin: str) -> dict[str, str]:
    """``{pattern: {relative path: sha256}}`` flattened to ``"pattern :: path" -> sha256``.

    A folder stands for every file under it.
    """
    hashed: dict[str, str] = {}
    for pattern in patterns:
        anchored = pattern if os.path.isabs(pattern) else str(base / pattern)
        matches = sorted({file for path in glob.glob(anchored, recursive=True) for file in _files_at(path)})
        if not matches:
            warnings.append(f"declared input {pattern!r} ({origin}) matches no file")
            hashed[f"{pattern} :: <no match>"] = ""
            continue
        for path in matches:
            shown = os.path.relpath(path, base) if not os.path.isabs(pattern) else path
            hashed[f"{pattern} :: {shown}"] = file_sha256(path)
    return hashed


def _files_at(path: str) -> list[str]:
    """*path* if it is a file; every file under it, recursively, if it is a folder."""
    if not os.path.isdir(path):
        return [path] if os.path.isfile(path) else []
    return [
        os.path.join(folder, name)
        for folder, _, names in os.walk(path)
        for name in names
        if os.path.isfile(os.path.join(folder, name))
    ]


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return digest.hexdigest()


def _same_path(first: Path, second: Path) -> bool:
    return os.path.abspath(first) == os.path.abspath(second)


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _json_ready(value: Any) -> Any:
    if value is None:
        return None
    from ..notebook.parameters import json_safe

    return json_safe(dict(value))


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
