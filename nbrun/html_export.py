"""HTML of an executed notebook, rendered by nbconvert's HTML exporter (the ``html`` extra).

The page is self-contained and offline: images are inlined, and nbrun's
template (``nbrun/templates/nbrun_lab``, nbconvert's ``lab`` template without
its CDN scripts) adds a banner at the top and at the failing cell when the
run failed. Cells tagged ``remove-cell`` / ``remove-input`` / ``remove-output``
are honoured (nbconvert's TagRemovePreprocessor, the Jupyter Book
convention), and so are ``metadata.jupyter.source_hidden`` /
``outputs_hidden`` (which ``--report-mode`` sets on every code cell).
Images extracted with ``--extract-images`` (even with ``--strip-images``)
are inlined from their files, so the page never depends on them.
"""

from __future__ import annotations

import base64
import copy
import functools
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from .errors import NbrunError, NotebookWriteError
from .locations import Location, Where, printable, write_text

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "nbrun_lab"
EXTRA_ERROR = "--html needs the html extra: pip install 'jupyter-nbrun[html]'"


class HtmlUnavailableError(NbrunError):
    """nbconvert is not installed."""

    def __init__(self) -> None:
        super().__init__(EXTRA_ERROR)


def require_nbconvert() -> None:
    """Raise HtmlUnavailableError unless nbconvert can be imported."""
    try:
        import nbconvert  # noqa: F401
    except ImportError:
        raise HtmlUnavailableError() from None


def html_path_for(notebook_path: Where) -> Where:
    """``report.ipynb`` -> ``report.html`` (beside the written notebook, local or remote)."""
    return notebook_path.with_suffix(".html")


def notebook_to_html(nb: NotebookNode, *, title: str, resources_dir: Path) -> str:
    """Render *nb* (not modified) as one offline HTML page.

    *resources_dir* is where relative image paths in markdown are resolved
    (the written notebook's folder).
    """
    exporter = _exporter()
    resources: dict[str, Any] = {"metadata": {"name": title, "path": str(resources_dir)}}
    body, _ = exporter.from_notebook_node(_prepared_copy(nb, resources_dir), resources=resources)
    return str(body)


@functools.lru_cache(maxsize=1)
def _exporter() -> Any:
    """One exporter per process: building it is cheap, but its first render compiles the templates (~1 s)."""
    try:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor
    except ImportError:
        raise HtmlUnavailableError() from None
    exporter = HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATE_DIR)],
                            embed_images=True)
    tags = TagRemovePreprocessor(remove_cell_tags={"remove-cell"}, remove_input_tags={"remove-input"},
                                 remove_all_outputs_tags={"remove-output"}, enabled=True)
    exporter.register_preprocessor(tags, enabled=True)
    return exporter


def write_notebook_html(nb: NotebookNode, notebook_path: Where) -> Where:
    """Write the HTML of *nb* beside *notebook_path* (a path or a URL); return where.

    Raises HtmlUnavailableError without nbconvert, NotebookWriteError when
    the file cannot be written.
    """
    destination = html_path_for(notebook_path)
    resources = notebook_path.resolve().parent if isinstance(notebook_path, Path) else Path.cwd()
    try:
        page = notebook_to_html(nb, title=printable(notebook_path.stem), resources_dir=resources)
    except HtmlUnavailableError:
        raise
    except Exception as exc:  # noqa: BLE001 - nbconvert's failures are many; the run itself is kept
        raise NotebookWriteError(destination.display if isinstance(destination, Location) else destination,
                                 f"cannot render HTML: {exc}") from None
    write_text(page, destination)
    return destination


def _prepared_copy(nb: NotebookNode, notebook_dir: Path) -> NotebookNode:
    """A copy ready for the exporter: JupyterLab's collapsed inputs/outputs marked for removal (as
    nbconvert's tags are) and extracted images inlined again (nbconvert would link the files)."""
    copied = copy.deepcopy(nb)
    for cell in copied.cells:
        if cell.get("cell_type") != "code":
            continue
        jupyter = cell.get("metadata", {}).get("jupyter", {})
        if isinstance(jupyter, dict) and jupyter.get("source_hidden"):
            cell.metadata.setdefault("transient", {})["remove_source"] = True
        if isinstance(jupyter, dict) and jupyter.get("outputs_hidden"):
            cell["outputs"] = []
        for output in cell.get("outputs", []):
            _inline_extracted(output, notebook_dir)
    return copied


def _inline_extracted(output: NotebookNode, notebook_dir: Path) -> None:
    """Put a stripped payload back from its extracted file, and drop the file reference."""
    metadata = output.get("metadata")
    filenames = metadata.pop("filenames", None) if isinstance(metadata, dict) else None
    if not isinstance(filenames, dict):
        return
    data = output.setdefault("data", NotebookNode())
    for mime, name in filenames.items():
        if mime in data or not isinstance(name, str):
            continue
        try:
            raw = (notebook_dir / name).read_bytes()
        except OSError:
            continue  # the file is gone: the output shows without it
        data[mime] = raw.decode("utf-8", "replace") if mime == "image/svg+xml" else base64.b64encode(raw).decode("ascii")
