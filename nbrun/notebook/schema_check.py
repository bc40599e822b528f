"""nbformat's schema check, from a validator compiled once per machine instead of once per process.

nbformat compiles its JSON schema with fastjsonschema the first time a
process validates (about 50 ms, more than a replayed notebook costs). The
same validator's code, compiled to Python bytecode, is kept under the user
cache (``validators/``), named by the schema, fastjsonschema's version and
the interpreter, and loaded in about a millisecond. Only the verdict "valid"
is taken from it: for anything else (a schema error, a missing or repeated
cell id nbformat would repair, a notebook from a newer minor version, no
fastjsonschema) ``nbformat.validate`` runs as before and says what it says.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import marshal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import nbformat.v4

from ..storage.atomic import write_text_atomic
from ..storage.user_cache import user_cache_dir

Check = Callable[[Any], Any]


def validate(nb: Any) -> None:
    """As ``nbformat.validate(nb)``: raises its ValidationError, and repairs what it repairs."""
    check = _compiled_check(nb.get("nbformat"), nb.get("nbformat_minor"))
    if check is not None and _cell_ids_settled(nb):
        try:
            check(nb)
            return
        except Exception:  # noqa: BLE001 - any doubt: nbformat decides and words it
            pass
    nbformat.validate(nb)


def _cell_ids_settled(nb: Any) -> bool:
    """False where nbformat would add or change a cell id (version 4.5 and later: every id present and unique)."""
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
        return True
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return False
    ids = [cell.get("id") if isinstance(cell, dict) else None for cell in cells]
    return None not in ids and len(set(map(str, ids))) == len(ids)


@functools.cache
def _compiled_check(major: Any, minor: Any) -> Check | None:
    if major != 4 or not isinstance(minor, int) or minor > nbformat.v4.nbformat_minor:
        return None
    schemas = nbformat.v4.nbformat_schema
    name = schemas.get((4, minor)) or schemas[(None, None)]
    try:
        import fastjsonschema
    except ImportError:
        return None
    with contextlib.suppress(Exception):  # a check that cannot be had is only nbformat's own
        schema = (Path(nbformat.v4.__file__).parent / name).read_bytes()
        digest = hashlib.sha256(
            b"\0".join(
                [schema, fastjsonschema.VERSION.encode(), sys.version.encode(), sys.implementation.cache_tag.encode()]
            )
        ).hexdigest()[:24]
        path = user_cache_dir() / "validators" / f"{name.removesuffix('.schema.json')}-{digest}.marshal"
        code = _load(path) or _build(schema, path)
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # the code fastjsonschema generated from nbformat's own schema, kept by this user
        check: Check = namespace["validate"]
        return check
    return None


def _load(path: Path) -> Any:
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        return marshal.loads(path.read_bytes())
    return None


def _build(schema: bytes, path: Path) -> Any:
    import fastjsonschema

    code = compile(fastjsonschema.compile_to_code(json.loads(schema)), str(path), "exec")
    with contextlib.suppress(Exception):  # not kept: the next process compiles it again
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(marshal.dumps(code), path)
    return code
