"""What a notebook says about its own run: which kernel, which declared inputs; and its reset before a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nbformat import NotebookNode

from ..options import DEFAULT_KERNEL, ExecuteOptions


def resolve_kernel_name(nb: NotebookNode, options: ExecuteOptions) -> str:
    """``--kernel``, else the notebook's kernelspec name, else ``python3``."""
    if options.kernel_name:
        return options.kernel_name
    spec = nb.get("metadata", {}).get("kernelspec")
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and name else DEFAULT_KERNEL


# Keys of metadata.nbrun a run keeps: the user's (the execution cache's inputs and ttl, the pytest
# plugin's markers) and the text notebook the run read, which marks the .ipynb as its output.
DECLARED_RUN_KEYS = (
    "inputs",
    "markers",
    "text_notebook",
    "cache",
    "expect",
    "secrets",
    "max_memory",
)  # what the notebook declares; a run keeps them


def declared_run_metadata(nb: NotebookNode) -> dict[str, Any]:
    """The user-declared keys of ``metadata.nbrun``, which a run keeps."""
    record = nb.get("metadata", {}).get("nbrun")
    if not isinstance(record, dict):
        return {}
    return {key: record[key] for key in DECLARED_RUN_KEYS if key in record}


def set_run_record(nb: NotebookNode, record: Mapping[str, Any]) -> None:
    """The one writer of notebook-level ``metadata.nbrun``: *record* over the keys a run keeps.

    Running, finished, prepared, replayed from the cache or read from a text
    notebook: every record goes through here, so the user's declared keys
    survive each of them and nothing else of an earlier run does.
    """
    merged = {**declared_run_metadata(nb), **record}
    if merged:
        nb.metadata["nbrun"] = merged
    else:
        nb.metadata.pop("nbrun", None)


def reset_notebook(nb: NotebookNode, options: ExecuteOptions) -> None:
    """Clear previous outputs and nbrun/timing records before a run (the declared keys stay)."""
    set_run_record(nb, {})
    if options.store_widget_state:
        nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = []
        cell["execution_count"] = None
        cell.setdefault("metadata", NotebookNode())
        cell.metadata.pop("execution", None)
        cell.metadata.pop("nbrun", None)
