"""Which tests this pytest process runs next, so their notebooks can start before their turn.

``--nbrun-jobs N`` runs the next notebooks while the current one runs; their
results wait until pytest reaches their items, so reports still come in
collection order. Under xdist a worker's next tests are its own queue (what the
controller has sent it), never the whole collection, so no notebook runs in two
workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

_INDEX_KEY = pytest.StashKey[dict[int, int]]()


def upcoming_items(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[pytest.Item]:
    """The items this process will run after *item*, in order (*nextitem* first); may stop early."""
    if nextitem is None:
        return
    yield nextitem
    session = item.session
    queued = _xdist_queue(item.config)
    if queued is not None:
        yield from (session.items[index] for index in queued if 0 <= index < len(session.items))
        return
    index = _positions(session).get(id(nextitem))
    if index is not None:
        yield from session.items[index + 1 :]


def will_run(item: pytest.Item) -> bool:
    """False for an item pytest will skip at setup (skip, a true skipif, xfail with run=False)."""
    try:
        from _pytest.skipping import evaluate_skip_marks, evaluate_xfail_marks
    except ImportError:  # pragma: no cover - pytest moved them: fall back to the plain marker
        return item.get_closest_marker("skip") is None
    try:
        if evaluate_skip_marks(item) is not None:
            return False
        xfail = evaluate_xfail_marks(item)
    except Exception:  # noqa: BLE001 - a bad condition fails at setup, where pytest reports it
        return False
    return xfail is None or xfail.run


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def auto_jobs(config: pytest.Config) -> int:
    """``--nbrun-jobs auto``: the usable cores, shared among xdist's workers."""
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    return max(1, usable_cores() // max(1, int(workers)))


def _positions(session: pytest.Session) -> dict[int, int]:
    """Each item's place in the session's list, built once (a lookup per test, not a scan)."""
    positions = session.config.stash.get(_INDEX_KEY, None)
    if positions is None or len(positions) != len(session.items):
        positions = session.config.stash[_INDEX_KEY] = {id(each): place for place, each in enumerate(session.items)}
    return positions


def _xdist_queue(config: pytest.Config) -> list[int] | None:
    """An xdist worker's pending test indices (a snapshot), or None outside a worker."""
    if not hasattr(config, "workerinput"):
        return None
    for plugin in config.pluginmanager.get_plugins():
        torun: Any = getattr(plugin, "torun", None)
        if type(plugin).__name__ == "WorkerInteractor" and hasattr(torun, "lock"):
            with torun.lock() as pending:
                return [index for index in pending if isinstance(index, int)]
    return []  # an xdist we do not know: only the next item is known
