"""The drop-in CI pieces (issue 24 item 5): action.yml's script in a simulated runner, the pre-commit hooks for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.support.load import within
from tests.support.notebooks import ROOT, make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]


def test_action_yml_hands_every_input_to_its_script() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    step = next(step for step in action["runs"]["steps"] if step.get("id") == "run")
    assert "tools/github_action.sh" in step["run"]
    script = (ROOT / "tools" / "github_action.sh").read_text()
    for name, value in step["env"].items():
        assert value == "${{ inputs." + name[len("INPUT_") :].lower().replace("_", "-") + " }}"
        assert name in script, name
    assert set(action["outputs"]) == {"junit-xml", "exit-code"}


def test_the_action_script_in_a_simulated_runner(tmp_path: Path) -> None:
    workspace = tmp_path / "repo"
    (workspace / "notebooks").mkdir(parents=True)
    nbformat.write(make_notebook("print('fine')"), workspace / "notebooks" / "ok.ipynb")
    nbformat.write(make_notebook("x = 1", "1/0"), workspace / "notebooks" / "fails.ipynb")
    output, summary = tmp_path / "github_output", tmp_path / "step_summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        GITHUB_ACTIONS="true",
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
        NBRUN_ACTION_SKIP_INSTALL="1",
        INPUT_PATHS="notebooks/ok.ipynb\nnotebooks/fails.ipynb\n",
        INPUT_JOBS="2",
        INPUT_CACHE="true",
        INPUT_CACHE_DIR=".nbrun-cache",
        INPUT_JUNIT_XML="results.xml",
        INPUT_ARGS="--output-dir out",
    )
    script = ROOT / "tools" / "github_action.sh"
    proc = subprocess.run(
        ["bash", str(script)], cwd=workspace, env=env, capture_output=True, text=True, timeout=within(180)
    )
    assert proc.returncode == 1, proc.stderr
    assert output.read_text().splitlines() == ["junit-xml=results.xml", "exit-code=1"]
    assert (workspace / "results.xml").exists() and (workspace / ".nbrun-cache").is_dir()
    assert "::error file=notebooks/fails.ipynb," in proc.stderr
    assert "| notebooks/fails.ipynb | error |" in summary.read_text()
    assert not (workspace / "notebooks" / "out").exists() and (workspace / "out" / "ok.ipynb").exists()


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_the_pre_commit_hooks_through_pre_commit(tmp_path: Path) -> None:
    """``pre-commit try-repo`` installs nbrun from this checkout into its own environment and runs each hook."""
    repo = tmp_path / "repo"
    repo.mkdir()
    nbformat.write(make_notebook("print('fine')"), repo / "ok.ipynb")
    nbformat.write(make_notebook("1/0"), repo / "fails.ipynb")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "notebooks"]):
        subprocess.run([*git, *command], cwd=repo, check=True, capture_output=True, timeout=60)
    before = {path.name: path.read_bytes() for path in repo.glob("*.ipynb")}
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    hooks = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT)]

    # One try-repo (each installs nbrun anew from a checkout with changes: the slow part), both hooks, verbose
    # so the passing notebook's lines show too.
    both = subprocess.run(
        [*hooks, "--verbose", "--files", "ok.ipynb", "fails.ipynb"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=within(300),
    )  # fmt: skip
    assert both.returncode == 1, both.stdout + both.stderr
    assert both.stdout.count("nbrun: ok ok.ipynb") == 2, both.stdout  # each hook passed the good notebook
    assert both.stdout.count("Failed") == 2 and "ZeroDivisionError" in both.stdout, both.stdout
    assert {path.name: path.read_bytes() for path in repo.glob("*.ipynb")} == before  # no hook changes a file
