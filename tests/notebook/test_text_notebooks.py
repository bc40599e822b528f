"""Text notebooks (jupytext): percent scripts and MyST markdown run like .ipynb and are written as .ipynb."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nbrun.cli.inputs.discover import discover
from tests.support.cli import invoke, one_line

jupytext = pytest.importorskip("jupytext")
pytestmark = pytest.mark.usefixtures("no_leaked_kernels")

PERCENT = """\
# %% [markdown]
# A report in a percent script.

# %% tags=["parameters"]
rows = 3

# %%
print("rows:", rows)
rows * 10
"""

MYST = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Chapter

```{code-cell} ipython3
:tags: [parameters]
name = "world"
```

```{code-cell} ipython3
print("hello", name)
```

```{code-cell} ipython3
raise ValueError("chapter " + name)
```

```{code-cell} ipython3
print("never")
```
"""


@pytest.mark.kernel
def test_percent_script_in_a_folder_runs_with_include_text_and_writes_ipynb_beside(tmp_path: Path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(PERCENT)
    skipped = invoke(str(tmp_path))
    assert skipped.exit_code == 2 and "contains no notebooks" in skipped.output + skipped.stderr
    result = invoke(str(tmp_path), "--include-text", "-p", "rows", "7")  # the folder holds only the script
    assert result.exit_code == 0, result.stderr
    assert script.read_text() == PERCENT  # the text file is never rewritten
    written = nbformat.read(tmp_path / "analysis.ipynb", 4)
    nbformat.validate(written)
    code = [cell for cell in written.cells if cell.cell_type == "code"]
    assert "injected-parameters" in code[1].metadata.tags and "rows = 7" in code[1].source
    assert code[2].outputs[0].text == "rows: 7\n"
    assert code[2].outputs[1].data["text/plain"] == "70"
    assert written.metadata.nbrun["status"] == "ok" and written.metadata.nbrun["parameters"] == {"rows": 7}
    assert "text_representation" not in written.metadata.get("jupytext", {})
    # Round trip: the written .ipynb converts back to the same percent script plus the injected cell.
    back = jupytext.writes(written, fmt="py:percent")
    assert 'print("rows:", rows)' in back and "rows = 7" in back
    again = invoke(str(tmp_path / "analysis.ipynb"), "-o", str(tmp_path / "again.ipynb"))
    assert again.exit_code == 0
    rerun = [cell for cell in nbformat.read(tmp_path / "again.ipynb", 4).cells if cell.cell_type == "code"]
    assert rerun[2].outputs[0].text == "rows: 7\n"  # the written .ipynb runs as it is


@pytest.mark.kernel
def test_myst_markdown_failing_cell_is_recorded(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.md"
    chapter.write_text(MYST)
    out = tmp_path / "out" / "chapter.ipynb"
    result = invoke(str(chapter), "-r", "name", "there", "-o", str(out))
    assert result.exit_code == 1
    assert "ValueError: chapter there" in result.stderr
    nb = nbformat.read(out, 4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code[2].outputs[0].text == "hello there\n"
    assert code[3].outputs[0].ename == "ValueError"
    assert code[4].metadata.nbrun["status"] == "not-run"
    assert nb.metadata.kernelspec.name == "python3"
    assert chapter.read_text() == MYST


def test_script_that_is_not_a_notebook_is_one_line_exit_5(tmp_path: Path) -> None:
    helper = tmp_path / "helper.py"
    helper.write_text("import os\nprint(os.getcwd())\n")
    result = invoke(str(helper))
    assert result.exit_code == 5
    assert "not a notebook" in one_line(result.stderr)
    assert not (tmp_path / "helper.ipynb").exists()


def test_output_naming_a_text_file_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(PERCENT)
    result = invoke(str(script), "-o", str(script))
    assert result.exit_code == 2 and script.read_text() == PERCENT


def test_discovery_takes_text_notebooks_only_with_include_text(tmp_path: Path) -> None:
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "a.ipynb")
    (tmp_path / "b.py").write_text(PERCENT)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.md").write_text(MYST)
    (tmp_path / "helper.py").write_text("x = 1\n")
    (tmp_path / "README.md").write_text("# Just prose\n\n```python\nx = 1\n```\n")
    twin = nbformat.v4.new_notebook(metadata={"nbrun": {"text_notebook": "b.py"}})
    nbformat.write(twin, tmp_path / "b.ipynb")  # b.py's executed twin: nbrun's record says so
    paired = nbformat.v4.new_notebook(metadata={"jupytext": {"formats": "ipynb,md:myst"}})
    nbformat.write(paired, tmp_path / "sub" / "c.ipynb")  # jupytext's pairing says so
    plain = discover((tmp_path,), ())
    assert [p.relative_to(tmp_path).as_posix() for p in plain] == ["a.ipynb", "b.ipynb", "sub/c.ipynb"]
    with_text = discover((tmp_path,), (), include_text=True)
    assert [p.relative_to(tmp_path).as_posix() for p in with_text] == ["a.ipynb", "b.py", "sub/c.md"]
    assert [p.name for p in discover((Path(f"{tmp_path}/**/*.md"),), (), include_text=True)] == ["c.md"]
    assert discover((tmp_path / "helper.py",), (), include_text=True) == [tmp_path / "helper.py"]


def test_without_jupytext_a_text_notebook_names_the_extra(tmp_path: Path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(PERCENT)
    blocked = "import sys; sys.modules['jupytext'] = None; from nbrun.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", blocked, "run", str(script)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert line.startswith("nbrun: error: ") and line.endswith(
        "needs the text extra: pip install 'jupyter-nbrun[text]'"
    )


def test_running_a_script_refuses_to_overwrite_an_unrelated_ipynb(tmp_path: Path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(PERCENT)
    theirs = tmp_path / "analysis.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), theirs)
    before = theirs.read_bytes()
    result = invoke(str(script))
    assert result.exit_code == 2
    assert "would overwrite analysis.ipynb, which is not its output" in one_line(result.stderr)
    assert theirs.read_bytes() == before


@pytest.mark.kernel
def test_include_text_runs_a_real_ipynb_beside_a_script_and_says_it_skipped_the_script(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text(PERCENT)
    real = tmp_path / "x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), real)
    result = invoke(str(tmp_path), "--include-text")
    assert result.exit_code == 1  # the real notebook ran, and failed
    assert "skipping" in result.stderr and "x.py" in result.stderr and "x.ipynb runs" in result.stderr
    assert nbformat.read(real, 4).cells[0].outputs[0].ename == "ZeroDivisionError"
    # Once nbrun has written a script's output, the next folder run overwrites it and skips nothing.
    script_dir = tmp_path / "own"
    script_dir.mkdir()
    (script_dir / "y.py").write_text(PERCENT)
    assert invoke(str(script_dir / "y.py")).exit_code == 0
    assert nbformat.read(script_dir / "y.ipynb", 4).metadata.nbrun["text_notebook"] == "y.py"
    again = invoke(str(script_dir), "--include-text", "-p", "rows", "9")
    assert again.exit_code == 0 and "skipping" not in again.stderr
    outputs = [cell.outputs for cell in nbformat.read(script_dir / "y.ipynb", 4).cells if cell.cell_type == "code"]
    assert outputs[2][0].text == "rows: 9\n"


@pytest.mark.kernel
def test_myst_header_naming_only_the_format_runs(tmp_path: Path) -> None:
    """Jupyter Book pages often name ``format_name: myst`` and no extension; jupytext reads them, so does nbrun."""
    page = tmp_path / "page.md"
    page.write_text(MYST.replace("    extension: .md\n", ""))
    result = invoke(str(page))
    assert result.exit_code == 1 and "ValueError: chapter world" in result.stderr, (
        result.stderr
    )  # ran, to its last cell
    code = [cell for cell in nbformat.read(tmp_path / "page.ipynb", 4).cells if cell.cell_type == "code"]
    assert any(o.get("text") == "hello world\n" for cell in code for o in cell.outputs)
