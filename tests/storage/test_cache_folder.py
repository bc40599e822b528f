"""Whether a cache store may hold entries, told from its folders alone (the front end's early look)."""

from __future__ import annotations

from pathlib import Path

from nbrun.cache.store import CacheStore
from nbrun.storage.cache_folder import may_hold_entries


def test_a_missing_or_never_filled_store_holds_no_entry(tmp_path: Path) -> None:
    assert not may_hold_entries(tmp_path / "no-such-cache")
    store = CacheStore(tmp_path / "c")
    store.entries_dir.mkdir(parents=True)
    (store.entries_dir / "digest.key").write_bytes(b"k")  # made before the first entry
    assert not may_hold_entries(store.root)


def test_a_store_with_an_entry_folder_may_hold_one(tmp_path: Path) -> None:
    store = CacheStore(tmp_path / "c")
    entry = store.path_for("ab" + "0" * 62)
    entry.parent.mkdir(parents=True)
    entry.write_text("{}")
    assert may_hold_entries(store.root)
