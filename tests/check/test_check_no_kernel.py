"""Output checks without kernels: sanitizers, markers, stream merging, --update's writer,
usage errors and the pytest option helpers."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook, new_output

from nbrun.check.compare import check_notebook
from nbrun.check.markers import cell_markers, prepare_for_run
from nbrun.check.model import CheckOptions
from nbrun.check.sanitize import SanitizerFileError, parse_sanitizer_text
from nbrun.check.update import accept_outputs
from nbrun.cli import main
from nbrun.errors import NotebookWriteError

pytest_plugins = ["pytester"]


def stream(text: str, name: str = "stdout") -> nbformat.NotebookNode:
    return new_output("stream", name=name, text=text)


def plain(text: str) -> nbformat.NotebookNode:
    return new_output("execute_result", data={"text/plain": text}, execution_count=1)


def pair(
    stored: list[nbformat.NotebookNode],
    got: list[nbformat.NotebookNode],
    source: str = "x",
    tags: list[str] | None = None,
    count: int | None = 1,
) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    metadata = {"tags": tags} if tags else {}
    return (
        new_notebook(cells=[new_code_cell(source, metadata=metadata, outputs=stored, execution_count=count)]),
        new_notebook(cells=[new_code_cell(source, metadata=metadata, outputs=got, execution_count=7)]),
    )


def kinds(
    stored: list[nbformat.NotebookNode],
    got: list[nbformat.NotebookNode],
    options: CheckOptions | None = None,
    **cell: object,
) -> list[str]:
    report = check_notebook(*pair(stored, got, **cell), options or CheckOptions())  # type: ignore[arg-type]
    return [m.kind for m in report.mismatches]


def test_nbval_sanitizer_file_format() -> None:
    text = "[section one]\nregex: \\d+\nreplace: N\n\n# not a pair\nregex: a(b)\n\nreplace: ignored\n[two]\nregex: \\d+\nreplace: NUM\n"
    assert parse_sanitizer_text(text) == (("\\d+", "NUM"),)  # the later pair with the same regex wins
    with pytest.raises(SanitizerFileError, match="bad regex"):
        parse_sanitizer_text("regex: (unclosed\nreplace: x\n")
    with pytest.raises(SanitizerFileError, match="no 'regex:' line"):
        parse_sanitizer_text("[only a header]\n")


def test_each_builtin_sanitizer_is_switchable() -> None:
    stored = [stream("/tmp/ipykernel_11/22.py:1: UserWarning: w\n", "stderr"), plain("<A at 0x7f1122334455>")]
    got = [stream("/tmp/ipykernel_99/3344.py:1: UserWarning: w\n", "stderr"), plain("<A at 0x7f9988776655>")]
    assert kinds(stored, got) == []
    assert kinds(stored, got, CheckOptions(sanitizers=("kernel-paths",))) == ["text/plain"]
    assert kinds(stored, got, CheckOptions(sanitizers=("addresses",))) == ["stderr"]
    assert kinds(stored, got, CheckOptions(sanitizers=())) == ["stderr", "text/plain"]
    assert kinds([plain("a 1")], [plain("a 2")], CheckOptions(patterns=(("\\d", "D"),))) == []
    temp = tempfile.gettempdir()
    made = [stream(f"wrote {temp}/tmpab_12x9q/out.csv\n")], [stream(f"wrote {temp}/tmp0z9y8x7w/out.csv\n")]
    assert kinds(*made) == [] and kinds(*made, CheckOptions(sanitizers=("addresses",))) == ["stdout"]


def test_streams_merge_per_name_with_carriage_returns_and_backspaces() -> None:
    stored = [stream("load 10%\rload 100%\n"), stream("warn\n", "stderr"), stream("tota\bal\n")]
    got = [stream("load 100%\ntotal\n"), stream("warn\n", "stderr")]
    assert kinds(stored, got) == []
    assert kinds([stream("a\n")], [stream("a\n"), stream("extra\n", "stderr")]) == ["stderr"]
    assert (
        kinds(
            [stream("a\n"), stream("err\n", "stderr")],
            [stream("a\n"), stream("other\n", "stderr")],
            tags=["nbrun-ignore-stderr"],
        )
        == []
    )


def test_never_compared_parts() -> None:
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}, "text/plain": "W"}
    stored = [new_output("display_data", data=widget, metadata={"a": 1})]
    got = [new_output("display_data", data={**widget, "application/vnd.jupyter.widget-view+json": {"model_id": "zz"}})]
    assert kinds(stored, got) == []
    error = new_output("error", ename="E", evalue="v", traceback=["one"])
    assert kinds([error], [new_output("error", ename="E", evalue="v", traceback=["two"])]) == []
    assert kinds([], [stream("new\n")], count=None) == []  # never run when saved: not compared
    assert kinds([stream("old\n")], [stream("new\n")], count=None) == ["stdout"]  # stored outputs are compared


def test_markers_comments_override_tags() -> None:
    assert (
        cell_markers(new_code_cell("# NBVAL_IGNORE_OUTPUT\n1", metadata={"tags": ["nbval-check-output"]})).check
        is False
    )
    assert cell_markers(new_code_cell("  #PYTEST_VALIDATE_IGNORE_OUTPUT\n1")).check is False
    assert cell_markers(new_code_cell("x = 1  # NBVAL_SKIP")).skip is False  # not a comment line
    assert cell_markers(new_code_cell("1", metadata={"tags": ["raises-exception"]})).raises
    odd = new_code_cell("1")
    odd.metadata["tags"] = "nbval-skip"  # not a list: ignored, as nbval does
    assert cell_markers(odd) == cell_markers(new_code_cell("1"))
    nb = new_notebook(cells=[new_code_cell("# NBVAL_SKIP\n1"), new_code_cell("# NBVAL_RAISES_EXCEPTION\n1/0")])
    prepared = prepare_for_run(nb)
    assert [c.metadata.get("tags") for c in prepared.cells] == [["skip-execution"], ["raises-exception"]]
    assert all("tags" not in c.metadata for c in nb.cells)


def _stored_file(tmp_path: Path) -> tuple[Path, str, nbformat.NotebookNode]:
    data = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"zeta": "ü", "alpha": 1},
        "cells": [
            {
                "id": "c1",
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "source": ["print(1)"],
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["1\n"]}],
            },
            {"id": "c2", "cell_type": "code", "execution_count": 2, "metadata": {}, "source": ["2"], "outputs": []},
        ],
    }
    text = json.dumps(data, indent=2, ensure_ascii=True)  # not Jupyter's style: no sorting, indent 2, no final newline
    path = tmp_path / "styled.ipynb"
    path.write_text(text)
    executed = nbformat.reads(text, 4)
    executed.cells[0].outputs = [stream("one\ntwo\n")]
    executed.cells[0].execution_count = 5
    return path, text, executed


def test_update_keeps_the_files_own_style(tmp_path: Path) -> None:
    path, text, executed = _stored_file(tmp_path)
    assert accept_outputs(path, text, executed, [0]) == 1
    written = path.read_text()
    expected = json.loads(text)
    expected["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["one\n", "two\n"]}]
    expected["cells"][0]["execution_count"] = 5
    assert written == json.dumps(expected, indent=2, ensure_ascii=True)


def test_update_refuses_a_file_changed_during_the_run(tmp_path: Path) -> None:
    path, text, executed = _stored_file(tmp_path)
    path.write_text(text + " ")
    with pytest.raises(NotebookWriteError, match="changed on disk"):
        accept_outputs(path, text, executed, [0])
    assert path.read_text() == text + " "


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    nb = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(), nb)
    result = CliRunner().invoke(main, ["check", str(nb), "--image-tolerance", "3"])
    assert result.exit_code == 2 and "--image-tolerance needs --compare-images" in result.output
    bad = tmp_path / "bad.cfg"
    bad.write_text("regex: (\nreplace: x\n")
    result = CliRunner().invoke(main, ["check", str(nb), "--sanitize-with", str(bad)])
    assert result.exit_code == 2
    assert (
        result.stderr.strip().count("\n") == 0
        and result.stderr.startswith("nbrun: error: ")
        and "bad regex" in result.stderr
    )


PLUGIN = """
from nbrun.check.pytest_options import add_check_options, check_options_from_config

def pytest_addoption(parser):
    add_check_options(parser.getgroup("nbrun"))

def pytest_configure(config):
    config.stash_nbrun = check_options_from_config(config)
"""


def test_pytest_options(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeconftest(PLUGIN)
    pytester.makefile(".cfg", sanitize="regex: \\d+\nreplace: N\n")
    pytester.makepyfile(
        test_seen="""
def test_options(request):
    import json, os
    options = request.config.stash_nbrun
    with open(os.environ["NBRUN_SEEN"], "w") as handle:
        json.dump(None if options is None else [options.lax, options.compare_images, options.image_tolerance,
                  list(options.sanitizers), [list(p) for p in options.patterns]], handle)
"""
    )
    seen = pytester.path / "seen.json"
    monkeypatch.setenv("NBRUN_SEEN", str(seen))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # the inner runs need no installed plugins
    assert pytester.runpytest_inprocess().ret == 0
    assert json.loads(seen.read_text()) is None
    result = pytester.runpytest_inprocess(
        "--nbrun-check",
        "--nbrun-lax",
        "--nbrun-compare-images",
        "--nbrun-image-tolerance",
        "7",
        "--nbrun-sanitize-with",
        "sanitize.cfg",
        "--nbrun-no-sanitize",
        "addresses",
    )
    assert result.ret == 0
    assert json.loads(seen.read_text()) == [True, True, 7, ["kernel-paths"], [["\\d+", "N"]]]
    assert (
        pytester.runpytest_inprocess("--nbrun-check", "--nbrun-image-tolerance", "300").ret
        == pytest.ExitCode.USAGE_ERROR
    )
    pytester.makefile(".cfg", broken="regex: (\nreplace: x\n")
    broken = pytester.runpytest_inprocess("--nbrun-check", "--nbrun-sanitize-with", "broken.cfg")
    assert broken.ret == pytest.ExitCode.USAGE_ERROR
