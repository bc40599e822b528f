"""The interpreter probe is remembered across processes, and asked again as soon as its answer may have changed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nbrun.cache import environment, interpreter_memo


@pytest.fixture(autouse=True)
def own_memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    environment.interpreter.cache_clear()


def test_a_remembered_answer_spares_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    first = environment.interpreter(sys.executable)
    assert first.version == sys.version.split()[0] and first.packages
    assert interpreter_memo.memo_file().exists()

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("probed although the memo holds")

    environment.interpreter.cache_clear()
    monkeypatch.setattr(subprocess, "run", no_subprocess)
    assert environment.interpreter(sys.executable) == first


def test_a_package_installed_in_a_path_folder_makes_it_ask_again(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    interpreter_memo.remember("/some/python", "3.11.0", [str(site)], None)
    assert interpreter_memo.recall("/some/python") is not None
    (site / "newpkg-1.0.dist-info").mkdir()
    assert interpreter_memo.recall("/some/python") is None


def test_a_changed_pth_file_or_variable_makes_it_ask_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    pth = site / "extra.pth"
    pth.write_text("/a\n")
    interpreter_memo.remember("/some/python", "3.11.0", [str(site)], str(tmp_path / "no-user-site"))
    assert interpreter_memo.recall("/some/python") is not None
    pth.write_text("/a\n/b\n")
    assert interpreter_memo.recall("/some/python") is None
    interpreter_memo.remember("/some/python", "3.11.0", [str(site)], str(tmp_path / "no-user-site"))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    assert interpreter_memo.recall("/some/python") is None
    monkeypatch.delenv("PYTHONPATH")
    (tmp_path / "no-user-site").mkdir()  # a user site created later is seen
    assert interpreter_memo.recall("/some/python") is None


def test_an_unreadable_memo_is_only_a_probe_more() -> None:
    target = interpreter_memo.memo_file()
    target.parent.mkdir(parents=True)
    target.write_text("{not json")
    assert interpreter_memo.recall(sys.executable) is None
    assert environment.interpreter(sys.executable).version == sys.version.split()[0]
    assert interpreter_memo.recall(sys.executable) is not None
