"""Issue 27: what a notebook declares about its own environment, read as juv and runtimed write it (no uv, no kernel)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

from nbrun.environments.build import uv_reason
from nbrun.environments.declarations import read_declarations
from nbrun.environments.layout import base_python, environments_root, plan_environment
from nbrun.errors import EnvironmentDeclarationError
from nbrun.options import EnvironmentSettings
from tests.support.notebooks import make_notebook

BLOCK = '# /// script\n# requires-python = ">=3.10"\n# dependencies = [\n#     "tabulate==0.9.0",\n# ]\n# ///'
LOCK = 'version = 1\nrequires-python = ">=3.10"\n\n[[package]]\nname = "tabulate"\nversion = "0.8.10"\n'


def test_a_script_block_in_the_first_code_cell_is_read_as_pep_723_says() -> None:
    nb = make_notebook(BLOCK, "import tabulate")
    found = read_declarations(nb)
    assert found is not None
    assert found.dependencies == ("tabulate==0.9.0",)
    assert found.requires_python == ">=3.10"
    assert found.where == "cell 1's script block" and found.lock is None


def test_a_block_in_a_later_cell_after_code_is_found_and_other_comment_blocks_are_not_script_blocks() -> None:
    other = "# /// pyproject\n# x = 1\n# ///"
    nb = make_notebook("x = 1", other, "import os\n" + BLOCK.replace("0.9.0", "0.8.10") + "\nprint(1)")
    found = read_declarations(nb)
    assert found is not None and found.dependencies == ("tabulate==0.8.10",) and found.where == "cell 3's script block"


def test_metadata_uv_is_read_when_no_cell_has_a_block_and_the_lock_comes_with_either() -> None:
    nb = make_notebook("import tabulate")
    nb.metadata["uv"] = {"dependencies": ["tabulate>=0.8"], "requires-python": ">=3.9"}
    nb.metadata["uv.lock"] = LOCK
    found = read_declarations(nb)
    assert found is not None and found.where == "metadata.uv"
    assert found.dependencies == ("tabulate>=0.8",) and found.requires_python == ">=3.9"
    assert found.locked_packages() == ["tabulate==0.8.10"]
    assert "locked (1 packages)" in found.describe()


def test_a_notebook_without_declarations_has_no_environment() -> None:
    assert read_declarations(make_notebook("# /// not closed\n# dependencies = []", "x = 1")) is None


@pytest.mark.parametrize(
    ("cells", "metadata", "says"),
    [
        ((BLOCK, BLOCK), {}, "two PEP 723 script blocks (cell 1 and cell 2)"),
        (("# /// script\n# dependencies = [\n# ///",), {}, "cell 1's script block is not TOML"),
        (("# /// script\n# dependencies = 'tabulate'\n# ///",), {}, "dependencies must be a list of strings"),
        (("# /// script\n# dependencies = ['tabulate=>0.9']\n# ///",), {}, "'tabulate=>0.9' is not a requirement"),
        (("# /// script\n# requires-python = 'three'\n# ///",), {}, "requires-python 'three' is not a version"),
        (("x = 1",), {"uv": ["tabulate"]}, "metadata.uv must be an object"),
        (("x = 1",), {"uv.lock": LOCK}, "no dependencies are declared"),
        ((BLOCK,), {"uv.lock": "[[package]"}, "metadata['uv.lock'] is not TOML"),
    ],
)
def test_a_declaration_that_cannot_be_read_is_one_line_naming_where(
    cells: tuple[str, ...], metadata: dict[str, object], says: str
) -> None:
    nb = make_notebook(*cells)
    nb.metadata.update(metadata)
    with pytest.raises(EnvironmentDeclarationError) as caught:
        read_declarations(nb)
    assert says in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.status.exit_code == 2 and caught.value.status.value == "environment-failed"


def test_the_digest_names_what_the_environment_is_built_from(tmp_path: Path) -> None:
    settings = EnvironmentSettings(tmp_path)

    def digest(nb: nbformat.NotebookNode) -> str:
        found = read_declarations(nb)
        assert found is not None
        return plan_environment(found, settings).digest

    pinned = digest(make_notebook(BLOCK, "import tabulate"))
    assert pinned == digest(make_notebook("# a different notebook\n" + BLOCK))  # same declarations: one environment
    assert pinned != digest(make_notebook(BLOCK.replace("0.9.0", "0.8.10")))  # a changed pin: another
    locked = make_notebook(BLOCK)
    locked.metadata["uv.lock"] = LOCK
    assert pinned != digest(locked)  # a lock: another
    plan = plan_environment(read_declarations(locked) or pytest.fail(), settings)
    assert plan.folder == tmp_path / plan.digest and plan.python == tmp_path / plan.digest / "bin" / "python"


def test_the_base_interpreter_is_this_one_unless_requires_python_excludes_it() -> None:
    assert base_python(None) == sys.executable
    assert base_python(">=3.8") == sys.executable
    assert base_python("<3.0") == "<3.0"  # uv finds (or fetches) one that fits


def test_the_folder_of_environments_is_the_settings_then_the_variable_then_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBRUN_ENV_DIR", str(tmp_path / "from-env"))
    assert environments_root(EnvironmentSettings(tmp_path / "given")) == tmp_path / "given"
    assert environments_root(EnvironmentSettings()) == tmp_path / "from-env"
    monkeypatch.delenv("NBRUN_ENV_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert environments_root(EnvironmentSettings()) == tmp_path / "cache" / "nbrun" / "envs"


def test_uvs_reason_is_one_line_from_its_error_on() -> None:
    stderr = (
        "Using Python 3.11.7 environment at: env\n"
        "  × No solution found when resolving dependencies:\n"
        "error: No solution found when resolving dependencies\n"
        "  cause: Because there is no version of tabulate==99 and you require tabulate==99, we can conclude "
        "that your requirements are unsatisfiable.\n"
        "  hint: try another version\n"
    )
    reason = uv_reason(stderr)
    assert reason == (
        "No solution found when resolving dependencies: Because there is no version of tabulate==99 and you "
        "require tabulate==99, we can conclude that your requirements are unsatisfiable."
    )
    assert uv_reason("") == "uv failed (no message)"
