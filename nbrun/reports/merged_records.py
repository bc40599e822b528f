"""Several JSON run records as one: the shards of a CI run on one run page (``nbrun report a.json b.json``).

The notebooks are listed record by record, in the order given; totals and
the cached count are summed; the run starts at the earliest start and ends
at the latest end (shards run side by side, so the duration is the wall
time, not the sum); the exit code is that of the first failing notebook, as
a batch's is. A notebook's own figures are never changed.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any


def merged_record(records: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """One run record from *records* (read from the files *names*, which the result lists)."""
    if len(records) == 1:
        return records[0]
    notebooks = [notebook for record in records for notebook in record.get("notebooks", [])]
    totals: dict[str, int] = {}
    for record in records:
        for status, count in (record.get("totals") or {}).items():
            totals[status] = totals.get(status, 0) + int(count)
    spans = [span for span in map(_span, records) if span is not None]
    first = records[0]
    merged: dict[str, Any] = {
        **{key: value for key, value in first.items() if key not in ("notebooks", "totals", "cached")},
        "exit_code": next((nb.get("exit_code") for nb in notebooks if nb.get("exit_code")), 0),
        "totals": totals,
        "notebooks": notebooks,
        "merged_from": list(names),
    }
    if spans:
        start, end = min(span[0] for span in spans), max(span[1] for span in spans)
        merged["started"] = start.isoformat().replace("+00:00", "Z")
        merged["duration"] = round((end - start).total_seconds(), 3)
    cached = sum(int(record.get("cached") or 0) for record in records)
    if cached:
        merged["cached"] = cached
    return merged


def _span(record: dict[str, Any]) -> tuple[datetime.datetime, datetime.datetime] | None:
    started, duration = record.get("started"), record.get("duration")
    if not isinstance(started, str) or not isinstance(duration, (int, float)):
        return None
    try:
        start = datetime.datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=datetime.timezone.utc)
    return start, start + datetime.timedelta(seconds=float(duration))
