"""HTML of an executed notebook, rendered by nbconvert's HTML exporter (the ``html`` extra).

The page is self-contained and offline: images are inlined, and nbrun's
template (``nbrun/reports/templates/nbrun_lab``, nbconvert's ``lab`` template without
its CDN scripts) adds a banner at the top and at the failing cell when the
run failed. Cells tagged ``remove-cell`` / ``remove-input`` / ``remove-output``
are honoured (nbconvert's TagRemovePreprocessor, the Jupyter Book
convention), and so are ``metadata.jupyter.source_hidden`` /
``outputs_hidden`` (which ``--report-mode`` sets on every code cell).
The page carries the run page's Content-Security-Policy (no request, no
script, so a markdown ``onerror`` or an output's ``<script>`` does not run when
it is opened); *allow_scripts* (``--html-allow-scripts``) lets inline scripts
run, for pages whose outputs need them (widgets, interactive plots).
Images extracted with ``--extract-images`` (even with ``--strip-images``)
are inlined from their files, so the page never depends on them; an output
linking any other file has it left out (``nbrun.images.links``).
"""

from __future__ import annotations

import base64
import copy
import functools
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from ..errors import MissingExtraError, NotebookWriteError
from ..images.links import ImageLinks
from ..storage.locations import Location, Where, printable, write_text
from .run_page import CONTENT_SECURITY_POLICY

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "nbrun_lab"
SCRIPTS_ALLOWED_POLICY = CONTENT_SECURITY_POLICY + "; script-src 'unsafe-inline' 'unsafe-eval'"  # still no request


def require_nbconvert() -> None:
    """Raise MissingExtraError (the html extra) unless nbconvert can be imported."""
    try:
        import nbconvert  # noqa: F401
    except ImportError:
        raise MissingExtraError("--html", "html") from None


def html_path_for(notebook_path: Where) -> Where:
    """``report.ipynb`` -> ``report.html`` (beside the written notebook, local or remote)."""
    return notebook_path.with_suffix(".html")


def notebook_to_html(
    nb: NotebookNode, *, title: str, resources_dir: Path, links: ImageLinks | None = None, allow_scripts: bool = False
) -> str:
    """Render *nb* (not modified) as one offline HTML page.

    *resources_dir* is where relative image paths in markdown are resolved
    (the written notebook's folder); *links* follows the outputs'
    ``metadata.filenames`` to the images extracted for it (None: no file is read);
    *allow_scripts* relaxes the page's Content-Security-Policy to let inline scripts run.
    """
    exporter = _exporter()
    policy = SCRIPTS_ALLOWED_POLICY if allow_scripts else CONTENT_SECURITY_POLICY
    resources: dict[str, Any] = {"metadata": {"name": title, "path": str(resources_dir)}, "nbrun_csp": policy}
    body, _ = exporter.from_notebook_node(_prepared_copy(nb, links), resources=resources)
    return str(body)


@functools.lru_cache(maxsize=1)
def _exporter() -> Any:
    """One exporter per process: building it is cheap, but its first render compiles the templates (~1 s)."""
    try:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor
    except ImportError:
        raise MissingExtraError("--html", "html") from None
    exporter = HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATE_DIR)], embed_images=True)
    tags = TagRemovePreprocessor(
        remove_cell_tags={"remove-cell"},
        remove_input_tags={"remove-input"},
        remove_all_outputs_tags={"remove-output"},
        enabled=True,
    )
    exporter.register_preprocessor(tags, enabled=True)
    return exporter


def write_notebook_html(nb: NotebookNode, notebook_path: Where, *, allow_scripts: bool = False) -> Where:
    """Write the HTML of *nb* beside *notebook_path* (a path or a URL); return where.

    Raises MissingExtraError without nbconvert, NotebookWriteError when
    the file cannot be written.
    """
    destination = html_path_for(notebook_path)
    resources = notebook_path.resolve().parent if isinstance(notebook_path, Path) else Path.cwd()
    try:
        page = notebook_to_html(
            nb,
            title=printable(notebook_path.stem),
            resources_dir=resources,
            links=ImageLinks.for_target(notebook_path),
            allow_scripts=allow_scripts,
        )
    except MissingExtraError:
        raise
    except Exception as exc:  # noqa: BLE001 - nbconvert's failures are many; the run itself is kept
        raise NotebookWriteError(
            destination.display if isinstance(destination, Location) else destination, f"cannot render HTML: {exc}"
        ) from None
    write_text(page, destination)
    return destination


def _prepared_copy(nb: NotebookNode, links: ImageLinks | None) -> NotebookNode:
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
            _inline_extracted(output, links)
    return copied


def _inline_extracted(output: NotebookNode, links: ImageLinks | None) -> None:
    """Put a stripped payload back from its extracted file, and drop the file reference."""
    metadata = output.get("metadata")
    filenames = metadata.pop("filenames", None) if isinstance(metadata, dict) else None
    if not isinstance(filenames, dict):
        return
    data = output.setdefault("data", NotebookNode())
    for mime, name in filenames.items():
        wanted = links is not None and str(mime).startswith("image/") and mime not in data
        raw = links.read(name) if wanted and links is not None else None
        if raw is None:
            continue  # not extracted for this notebook, or gone: the output shows without it
        data[mime] = (
            raw.decode("utf-8", "replace") if mime == "image/svg+xml" else base64.b64encode(raw).decode("ascii")
        )
