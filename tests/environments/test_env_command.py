"""Issue 27: ``nbrun env list|prune``, ``nbrun inspect``, and the refusals said before any kernel starts (in-process)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from nbrun.cli import main
from nbrun.environments.layout import LAST_USED, RECORD
from tests.support.cli import invoke, one_line
from tests.support.notebooks import make_notebook

BLOCK = '# /// script\n# dependencies = ["tabulate==0.9.0"]\n# ///'


def fake_environment(root: Path, digest: str, dependencies: list[str], days_unused: float) -> Path:
    """A finished environment as the folder holds it (no interpreter: list and prune read only the record)."""
    folder = root / digest
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").write_bytes(b"x" * 2048)
    (folder / RECORD).write_text(json.dumps({"dependencies": dependencies, "locked": []}), encoding="utf-8")
    used = time.time() - days_unused * 86400
    (folder / LAST_USED).touch()
    os.utime(folder / LAST_USED, (used, used))
    return folder


def test_env_list_shows_each_environment_and_prune_removes_the_unused_then_all(tmp_path: Path) -> None:
    old = fake_environment(tmp_path, "aaaa000011112222", ["tabulate==0.8.10"], days_unused=40)
    new = fake_environment(tmp_path, "bbbb000011112222", ["tabulate==0.9.0"], days_unused=0)
    (tmp_path / ".building-cccc-x").mkdir()  # a build under way is not an environment
    runner = CliRunner()
    listed = runner.invoke(main, ["env", "list", "--env-dir", str(tmp_path)], catch_exceptions=False)
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split() == ["DIGEST", "SIZE", "LAST", "USED", "DECLARES"]
    assert lines[1].startswith("aaaa000011112222") and lines[1].endswith(
        "tabulate==0.8.10"
    )  # least recently used first
    assert lines[2].startswith("bbbb000011112222") and lines[2].endswith("tabulate==0.9.0")
    assert lines[3].startswith("2 environments, ")
    pruned = runner.invoke(main, ["env", "prune", "--env-dir", str(tmp_path), "--older-than", "30"])
    assert pruned.exit_code == 0 and pruned.output.startswith("removed 1 environment ("), pruned.output
    assert not old.exists() and new.exists() and (tmp_path / ".building-cccc-x").exists()
    everything = runner.invoke(main, ["env", "prune", "--all"], env={"NBRUN_ENV_DIR": str(tmp_path)})
    assert everything.exit_code == 0 and not new.exists(), everything.output
    refused = runner.invoke(main, ["env", "prune", "--env-dir", str(tmp_path)])
    assert refused.exit_code == 2 and "give --older-than DAYS or --all" in refused.output


def test_inspect_shows_the_declared_dependencies(tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook(BLOCK, "import tabulate"), source)
    shown = CliRunner().invoke(main, ["inspect", str(source)], catch_exceptions=False)
    assert shown.exit_code == 0
    assert f"Environment of {source} (from cell 1's script block):\n  tabulate==0.9.0\n" in shown.output


def test_without_uv_the_run_says_which_extra_to_install_before_any_kernel_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook(BLOCK, "open('ran', 'w').write('x')"), source)
    monkeypatch.setitem(sys.modules, "uv", None)  # the env extra is not installed...
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))  # ...and no uv on PATH
    result = invoke(str(source), "--env-dir", str(tmp_path / "envs"), "--no-fast-start")
    assert result.exit_code == 2
    assert one_line(result.stderr).endswith(
        "a notebook that declares dependencies needs the env extra: pip install 'jupyter-nbrun[env]'"
    )
    assert not (tmp_path / "ran").exists()


def test_env_none_ignores_the_declarations_and_the_key_then_has_no_environment(tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook(BLOCK, "x = 1"), source)
    runner = CliRunner()

    def key_parts(*flags: str) -> dict[str, object]:
        shown = runner.invoke(main, ["cache", "key", str(source), "--json", *flags], catch_exceptions=False)
        assert shown.exit_code == 0, shown.output
        parts: dict[str, object] = json.loads(shown.output)["parts"]
        return parts

    with_env = key_parts()
    assert with_env["environment"] == {"digest": with_env["environment"]["digest"], "dependencies": ["tabulate==0.9.0"]}  # type: ignore[index]
    assert "environment" not in key_parts("--env", "none")
    nbformat.write(make_notebook(BLOCK.replace("0.9.0", "0.8.10"), "x = 1"), source)
    assert key_parts()["environment"] != with_env["environment"]  # a changed pin: another key


def test_a_kernel_that_is_not_ipykernel_cannot_use_the_environment(tmp_path: Path, bash_kernel_spec: str) -> None:
    nb = make_notebook(BLOCK, "echo hi")
    nb.metadata["kernelspec"] = {"name": bash_kernel_spec, "display_name": "Bash", "language": "bash"}
    source = tmp_path / "nb.ipynb"
    nbformat.write(nb, source)
    result = invoke(str(source), "--env-dir", str(tmp_path / "envs"))
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert f"its kernel {bash_kernel_spec!r} is not ipykernel" in line and "--env none" in line
