"""``from nbrun import record``: inside a kernel, record a named value in scrapbook's format.

Imported on its own by ``nbrun.__getattr__``: the kernel pays for this module
(the standard library and IPython's display), never for the rest of nbrun.
The output is what ``scrapbook.glue`` writes (a ``display_data`` whose data is
``application/scrapbook.scrap.json+json``, or ``.text+json`` for a string,
and whose metadata is ``{"scrapbook": {"name": ..., "data": true,
"display": false}}``), so ``scrapbook.read_notebook(out).scraps`` reads it.
"""

from __future__ import annotations

import json
import math
from typing import Any

SCRAP_MIME = "application/scrapbook.scrap.{encoder}+json"
SCRAP_VERSION = 1


class RecordError(TypeError):
    """The value cannot be recorded: it is not JSON (or not finite), or the name is not a name."""


def record(name: str, value: Any) -> None:
    """Record *value* (JSON: numbers, strings, booleans, None, lists and dicts of them) as *name*.

    The last value recorded under a name wins. Raises RecordError for anything else.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise RecordError(f"record({name!r}, ...): the name must be an identifier such as 'accuracy'")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        kind = "NaN and infinity are not JSON" if _non_finite(value) else f"not JSON-serialisable ({exc})"
        raise RecordError(f"record({name!r}, ...): a {type(value).__name__} value is {kind}") from None
    encoder = "text" if isinstance(value, str) else "json"
    payload = {"name": name, "data": json.loads(text), "encoder": encoder, "version": SCRAP_VERSION}
    try:
        from IPython.display import display
    except ImportError:
        raise RuntimeError("nbrun.record works in a notebook's kernel (IPython is not installed)") from None
    metadata = {"scrapbook": {"name": name, "data": True, "display": False}}
    display({SCRAP_MIME.format(encoder=encoder): payload}, metadata=metadata, raw=True)


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)
