"""`pytest --nbrun`: notebooks as pytest tests, run by real `python -m pytest` processes and real kernels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.plugin_projects import PytestRun, project, run_pytest, snapshot, stdout_of, write_notebook

pytestmark = pytest.mark.kernel

SLEEP = "import time\ntime.sleep(30)"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def _main_project(root: Path) -> Path:
    """Notebooks covering the default behaviour, nbmake's metadata and markers (one pytest run)."""
    project(root)
    write_notebook(root / "ok.ipynb", "print('hello from ok')", "x = 2\nx")
    write_notebook(
        root / "fails.ipynb", "print('before the error')", "import sys\nprint('to stderr', file=sys.stderr)\n1/0"
    )
    write_notebook(root / "meta_timeout.ipynb", "x = 1", SLEEP, metadata={"execution": {"timeout": 1}})
    write_notebook(
        root / "meta_allow_errors.ipynb", "1/0", "print('went on')", metadata={"execution": {"allow_errors": True}}
    )
    write_notebook(
        root / "tags.ipynb",
        ("1/0", ["skip-execution"]),
        ("raise ValueError('ok')", ["raises-exception"]),
        "print('after')",
    )
    write_notebook(
        root / "mock_ok.ipynb",
        "x = 1\ns = 'real'",
        "assert x == 5 and s == \"it's\"\nprint('mocked')",
        cell_metadata={0: {"nbmake": {"mock": {"x": 5, "s": "it's"}, "post_cell_execute": ["assert x == 5"]}}},
    )
    write_notebook(
        root / "post_fails.ipynb",
        "y = 1",
        "print('never')",
        cell_metadata={0: {"nbmake": {"post_cell_execute": ["assert y == 2, 'y must be 2'"]}}},
    )
    write_notebook(
        root / "mock_keeps_error.ipynb",
        "1/0",
        cell_metadata={0: {"nbmake": {"mock": {"z": 1}, "post_cell_execute": ["raise KeyError('hook')"]}}},
    )
    write_notebook(
        root / "post_allowed_cell.ipynb",
        ("pass", ["raises-exception"]),
        cell_metadata={0: {"nbmake": {"post_cell_execute": ["raise KeyError('hook')"]}}},
    )
    write_notebook(root / "slow.ipynb", "pass", metadata={"nbrun": {"markers": ["slow"]}})
    write_notebook(
        root / "skipped.ipynb", "1/0", metadata={"nbrun": {"markers": [{"name": "skip", "reason": "needs a GPU"}]}}
    )
    write_notebook(root / "xfail.ipynb", "1/0", metadata={"nbrun": {"markers": [{"name": "xfail", "reason": "bug 7"}]}})
    write_notebook(
        root / "bogus_kernel.ipynb",
        "pass",
        metadata={"kernelspec": {"name": "no-such-kernel-xyz", "display_name": "x"}},
    )
    (root / "broken.ipynb").write_text('{"cells": [')
    write_notebook(root / "with space" / "nb one.ipynb", "pass")
    write_notebook(root / "pkg" / "in_pkg.ipynb", "pass")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    for hidden in (
        "_build/built.ipynb",
        ".ipynb_checkpoints/ok-checkpoint.ipynb",
        ".hidden/h.ipynb",
        "ignored/ig.ipynb",
        "docs/_build/html/deep.ipynb",
    ):
        write_notebook(root / hidden, "1/0")
    return root


@pytest.fixture(scope="module")
def main_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PytestRun, dict[str, bytes]]:
    root = _main_project(tmp_path_factory.mktemp("plugin") / "proj")
    before = snapshot(root)
    run = run_pytest(root, "--nbrun", "--nbrun-timeout=60", "--ignore=ignored", "-p", "no:randomly")
    return root, run, before


def test_collection_rules(main_run: tuple[Path, PytestRun, dict[str, bytes]]) -> None:
    _, run, _ = main_run
    assert set(run.cases) == {
        "ok.ipynb",
        "fails.ipynb",
        "meta_timeout.ipynb",
        "meta_allow_errors.ipynb",
        "tags.ipynb",
        "mock_ok.ipynb",
        "post_fails.ipynb",
        "mock_keeps_error.ipynb",
        "post_allowed_cell.ipynb",
        "slow.ipynb",
        "skipped.ipynb",
        "xfail.ipynb",
        "bogus_kernel.ipynb",
        "broken.ipynb",
        "nb one.ipynb",
        "in_pkg.ipynb",
        "test_plain",
    }, run.output


def test_pass_fail_and_report(main_run: tuple[Path, PytestRun, dict[str, bytes]]) -> None:
    _, run, _ = main_run
    cases = run.cases
    for name in ("ok.ipynb", "meta_allow_errors.ipynb", "tags.ipynb", "nb one.ipynb", "in_pkg.ipynb", "test_plain"):
        assert cases[name].outcome == "passed", (name, cases[name].text)
    assert "hello from ok" in cases["ok.ipynb"].stdout
    failed = cases["fails.ipynb"]
    assert failed.outcome == "failed"
    assert failed.message == "cell 2 (index 1, In [2]) raised ZeroDivisionError: division by zero"
    assert "notebook: fails.ipynb" in failed.text
    assert "print('to stderr', file=sys.stderr)\n1/0" in failed.text  # the cell's source
    assert "ZeroDivisionError" in failed.text and "----> 3 1/0" in failed.text  # its traceback, without ANSI
    assert "\x1b" not in failed.text and "#x1B" not in failed.text
    assert "before the error" in failed.stdout and "to stderr" in failed.stderr
    assert "Captured stdout call" in run.proc.stdout and "Traceback (most recent call last)" in run.proc.stdout
    assert "INTERNALERROR" not in run.output and "pytest_plugin/" not in failed.text  # never the plugin's traceback


def test_metadata_timeout_wins_over_flag(main_run: tuple[Path, PytestRun, dict[str, bytes]]) -> None:
    case = main_run[1].cases["meta_timeout.ipynb"]
    assert case.outcome == "failed"
    assert "cell 2 (index 1" in case.message and "timed out after 1" in case.message


def test_mocks_and_post_cell_code(main_run: tuple[Path, PytestRun, dict[str, bytes]]) -> None:
    cases = main_run[1].cases
    assert cases["mock_ok.ipynb"].outcome == "passed", cases["mock_ok.ipynb"].text
    assert "mocked" in cases["mock_ok.ipynb"].stdout
    post = cases["post_fails.ipynb"]
    assert post.outcome == "failed"
    assert "the code run after this cell failed: AssertionError: y must be 2" in post.message
    assert "assert y == 2, 'y must be 2'" in post.text
    kept = cases["mock_keeps_error.ipynb"]  # hooks never run after a failing cell, so its own error is reported
    assert kept.outcome == "failed" and "ZeroDivisionError" in kept.message and "KeyError" not in kept.text
    allowed = cases["post_allowed_cell.ipynb"]  # a failing hook fails the test even in a raises-exception cell
    assert allowed.outcome == "failed" and "KeyError: 'hook'" in allowed.message


def test_markers_skip_xfail(main_run: tuple[Path, PytestRun, dict[str, bytes]]) -> None:
    cases = main_run[1].cases
    assert cases["slow.ipynb"].outcome == "passed"
    output = main_run[1].output  # the unregistered marker's warning points at the notebook, not the plugin
    assert "slow.ipynb:1: PytestUnknownMarkWarning" in output and "items.py" not in output
    assert cases["skipped.ipynb"].outcome == "skipped" and "needs a GPU" in cases["skipped.ipynb"].message
    assert cases["xfail.ipynb"].outcome == "skipped" and "bug 7" in cases["xfail.ipynb"].message


def test_unrunnable_notebooks_fail_in_one_line(main_run: tuple[Path, PytestRun, dict[str, bytes]]) -> None:
    cases = main_run[1].cases
    assert cases["broken.ipynb"].outcome == "failed"
    assert cases["broken.ipynb"].message.startswith("not a valid notebook (not valid JSON")
    assert (
        cases["bogus_kernel.ipynb"].outcome == "failed" and "no-such-kernel-xyz" in cases["bogus_kernel.ipynb"].message
    )
    assert "Traceback" not in cases["broken.ipynb"].text


def test_without_overwrite_nothing_on_disk_changes(main_run: tuple[Path, PytestRun, dict[str, bytes]]) -> None:
    root, _, before = main_run
    assert snapshot(root) == before


def test_marker_selection_and_subfolder(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    write_notebook(root / "nbs" / "slow.ipynb", "pass", metadata={"nbrun": {"markers": ["slow", "network"]}})
    write_notebook(root / "nbs" / "fast.ipynb", "pass")
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: slow\n    network: network\n")
    selected = run_pytest(root, "--nbrun", "--collect-only", "-q", "-m", "not slow", "--strict-markers")
    assert "nbs/fast.ipynb::fast.ipynb" in selected.proc.stdout and "slow.ipynb" not in selected.proc.stdout
    only = run_pytest(root / "nbs", "--nbrun", "--collect-only", "-q", "-m", "network")
    assert "slow.ipynb::slow.ipynb" in only.proc.stdout and "fast.ipynb" not in only.proc.stdout, only.output
    assert "fast.ipynb" not in run_pytest(root, "--collect-only", "-q").proc.stdout  # inactive without --nbrun


def test_flags_kernel_overwrite_timeout_param(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    override = write_notebook(
        root / "override.ipynb", "print(1 + 1)", metadata={"kernelspec": {"name": "nope-xyz", "display_name": "x"}}
    )
    write_notebook(root / "sleeps.ipynb", "x = 1", SLEEP)
    params = write_notebook(root / "params.ipynb", ("n = 1", ["parameters"]), "assert n == 3, n")
    run = run_pytest(
        root, "--nbrun", "--nbrun-kernel=python3", "--nbrun-overwrite", "--nbrun-timeout=1", "--nbrun-param", "n=3"
    )
    assert run.cases["override.ipynb"].outcome == "passed", run.output
    assert run.cases["params.ipynb"].outcome == "passed", run.cases["params.ipynb"].text
    assert run.cases["sleeps.ipynb"].outcome == "failed" and "timed out after 1" in run.cases["sleeps.ipynb"].message
    assert stdout_of(override) == "2\n"  # written back in place
    assert json.loads(params.read_text())["metadata"]["nbrun"]["parameters"] == {"n": 3}


def test_find_import_errors_output_dir_and_images(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    write_notebook(root / "other_errors.ipynb", "1/0", "raise ValueError('x')", "print('end')")
    write_notebook(root / "missing.ipynb", "1/0", "import no_such_module_xyz")
    write_notebook(
        root / "sub" / "image.ipynb",
        f"from IPython.display import Image\nImage(data=__import__('base64').b64decode('{PNG}'))",
    )
    before = snapshot(root)
    run = run_pytest(
        root, "--nbrun", "--nbrun-find-import-errors", "--nbrun-output-dir=out", "--nbrun-extract-images=img"
    )
    assert run.cases["other_errors.ipynb"].outcome == "passed", run.cases["other_errors.ipynb"].text
    missing = run.cases["missing.ipynb"]
    assert (
        missing.outcome == "failed"
        and "ModuleNotFoundError" in missing.message
        and "no_such_module_xyz" in missing.message
    )
    assert run.cases["image.ipynb"].outcome == "passed", run.cases["image.ipynb"].text
    assert stdout_of(root / "out" / "other_errors.ipynb") == "end\n"
    assert (root / "out" / "sub" / "image.ipynb").exists() and list((root / "img").glob("*.png"))
    assert {k: v for k, v in snapshot(root).items() if "/out/" not in k} == before  # the sources are untouched


def test_conflicting_options_are_a_usage_error(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    run = run_pytest(root, "--nbrun", "--nbrun-overwrite", "--nbrun-output-dir=out")
    assert run.proc.returncode == 4 and "exclude each other" in run.output and "Traceback" not in run.output


def test_colour_only_when_the_writer_has_markup() -> None:
    import io

    from _pytest._io import TerminalWriter

    from nbrun.pytest_plugin.failures import NotebookTestFailure, failure_repr

    failure = NotebookTestFailure("summary", "\x1b[31mZeroDivisionError\x1b[0m\n")
    for markup, expected in ((True, "\x1b[31mZeroDivisionError"), (False, "ZeroDivisionError\n")):
        shown = failure_repr(failure, Path("nb.ipynb"), colour=markup)
        buffer = io.StringIO()
        writer = TerminalWriter(buffer)
        writer.hasmarkup = markup
        shown.toterminal(writer)
        assert buffer.getvalue().startswith(expected)
        assert shown.reprcrash is not None and shown.reprcrash.message == "summary"


def test_after_cell_code_keeps_counts_and_outputs(write_nb) -> None:  # type: ignore[no-untyped-def]
    """The library hook behind nbmake.mock: same kernel, no outputs, no history entry; failure stops the run."""
    from nbformat import read

    from nbrun.api import run_path
    from nbrun.options import ExecuteOptions

    path = write_nb("a = 1", "print(a)", "b = 2", "print('never')")

    def after(cell) -> str | None:  # type: ignore[no-untyped-def]
        return {"a = 1": "a = 41\nprint('hidden')", "b = 2": "raise RuntimeError('check failed')"}.get(cell.source)

    result = run_path(path, options=ExecuteOptions(after_cell=after))
    nb = read(path, as_version=4)
    assert [cell.execution_count for cell in nb.cells[:3]] == [1, 2, 3]
    assert nb.cells[0].outputs == [] and nb.cells[1].outputs[0]["text"] == "41\n"
    assert result.status.value == "error" and result.failed_cell == 2
    assert "RuntimeError: check failed" in result.message
    assert nb.cells[3].execution_count is None


def test_under_xdist_the_short_summary_keeps_the_error(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    write_notebook(root / "failing.ipynb", "x = 1", "1/0")
    write_notebook(root / "fine.ipynb", "y = 2")
    run = run_pytest(root, "--nbrun", "-n", "2", "-ra")
    assert run.proc.returncode == 1, run.output
    summary = [line for line in run.output.splitlines() if line.startswith("FAILED failing.ipynb")]
    assert len(summary) == 1 and "cell 2 (index 1, In [2]) raised ZeroDiv" in summary[0], run.output
    assert "ZeroDivisionError" in run.cases["failing.ipynb"].message
