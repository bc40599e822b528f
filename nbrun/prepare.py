"""Parameters written into a notebook without running it (papermill's ``--prepare-only``)."""

from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode

from .errors import ParameterError
from .notebook_io import read_notebook, write_notebook
from .options import ExecuteOptions
from .parameters import declared_parameters, inject_parameters, json_safe


def apply_parameters(nb: NotebookNode, options: ExecuteOptions) -> list[str]:
    """Inject ``options.parameters`` into *nb* papermill's way; return the warnings.

    Raises ParameterError for a name the ``parameters`` cell does not declare
    when ``options.strict_parameters`` (else that is a warning), or for a
    kernel language that cannot take parameters.
    """
    parameters = options.parameters
    if parameters is None:
        return []
    warnings = []
    declared = {p.name for p in declared_parameters(nb)}
    unknown = sorted(set(parameters) - declared) if declared else []
    if unknown:
        message = f"not declared in the parameters cell: {', '.join(unknown)}"
        if options.strict_parameters:
            raise ParameterError(message)
        warnings.append(f"unknown parameter(s) {message}")
    injection = inject_parameters(nb, parameters)
    if injection.warning:
        warnings.append(injection.warning)
    return warnings


def prepare_file(source: Path, target: Path, options: ExecuteOptions) -> list[str]:
    """Read *source*, inject the parameters, write *target* without running anything; return the warnings.

    Outputs of an earlier run are cleared (they belong to other parameters);
    ``metadata.nbrun`` says ``prepared`` with the parameters used.
    Raises NotebookReadError, NotebookWriteError or ParameterError.
    """
    nb = read_notebook(source)
    warnings = apply_parameters(nb, options)
    for cell in nb.cells:  # outputs of an earlier run would belong to other parameters
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata["nbrun"] = {"status": "prepared", "parameters": json_safe(dict(options.parameters or {}))}
    write_notebook(nb, target)
    return warnings
