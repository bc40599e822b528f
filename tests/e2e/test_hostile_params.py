"""Hostile parameters through the installed ``nbrun`` command: shell values, undecodable bytes, YAML bombs."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
NBRUN = str(Path(sys.executable).parent / "nbrun")
SHELL_VALUE = "'$(touch pwned)`touch pwned`\"; touch pwned\n$HOME \\"  # a quote, substitutions, a newline, a backslash


def nbrun(
    *args: str | bytes, cwd: Path, env: dict[str, str] | None = None, memory: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The command; *memory* caps its address space, so a bomb that got through fails instead of filling the machine."""
    limit = None if memory is None else lambda: resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return subprocess.run(
        [NBRUN, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env, preexec_fn=limit
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("nbrun: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stderr.strip()


def python_notebook(path: Path, *sources: str, language: str = "python") -> Path:
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": language}
    nbformat.write(nb, path)
    return path


def kernels_env(tmp_path: Path, **specs: dict[str, object]) -> dict[str, str]:
    """The environment with a private JUPYTER_PATH holding *specs* (name -> kernel.json)."""
    for name, spec in specs.items():
        folder = tmp_path / "jupyter" / "kernels" / name
        folder.mkdir(parents=True)
        (folder / "kernel.json").write_text(json.dumps(spec))
    return {**os.environ, "JUPYTER_PATH": str(tmp_path / "jupyter")}


@pytest.mark.kernel
def test_bash_kernel_gets_shell_quoted_values_not_commands(tmp_path: Path) -> None:
    pytest.importorskip("bash_kernel")
    env = kernels_env(
        tmp_path,
        bash={
            "argv": [sys.executable, "-m", "bash_kernel", "-f", "{connection_file}"],
            "display_name": "Bash",
            "language": "bash",
        },
    )
    work = tmp_path / "work"
    work.mkdir()
    # the notebook claims Python; -k starts bash, so bash decides how values are written
    source = python_notebook(work / "py.ipynb", "printf '%s|' \"$x\"; echo; printf '%s|' \"${items[@]}\" $flag $n")
    out = work / "out.ipynb"
    proc = nbrun(
        "run",
        str(source),
        "-k",
        "bash",
        "-p",
        "x",
        SHELL_VALUE,
        "-p",
        "flag",
        "true",
        "-p",
        "n",
        "3.5",
        "-y",
        '{items: ["a b", "$(touch pwned)", 7]}',
        "-o",
        str(out),
        cwd=work,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert not list(tmp_path.rglob("pwned"))
    text = "".join(output.get("text", "") for output in nbformat.read(out, 4).cells[1].outputs)
    assert text == f"{SHELL_VALUE}|\na b|$(touch pwned)|7|true|3.5|\n"


def test_a_kernel_language_without_translator_refuses_parameters_before_it_starts(tmp_path: Path) -> None:
    started = tmp_path / "started"
    env = kernels_env(
        tmp_path,
        ark={"argv": [sys.executable, "-c", f"open({str(started)!r}, 'w')"], "display_name": "R", "language": "R"},
    )
    source = python_notebook(tmp_path / "py.ipynb", "x = 1")  # metadata says Python; -k starts an R kernel
    before = source.read_bytes()
    proc = nbrun("run", str(source), "-k", "ark", "-p", "x", "2", cwd=tmp_path, env=env)
    assert proc.returncode == 2
    assert "'r'" in one_error_line(proc)
    assert not started.exists() and source.read_bytes() == before


@pytest.mark.kernel
def test_the_started_python_kernel_takes_parameters_whatever_the_metadata_claims(tmp_path: Path) -> None:
    source = python_notebook(tmp_path / "r.ipynb", "print(x * 2)", language="R")
    out = tmp_path / "out.ipynb"
    proc = nbrun("run", str(source), "-k", "python3", "-p", "x", "21", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert nbformat.read(out, 4).cells[1].outputs[0].text == "42\n"


@pytest.mark.parametrize("flag", ["-p", "-r"])
def test_an_undecodable_byte_in_a_value_is_refused_before_any_kernel(tmp_path: Path, flag: str) -> None:
    source = python_notebook(tmp_path / "nb.ipynb", "open('ran', 'w').write('x')")
    before = source.read_bytes()
    out = tmp_path / "out.ipynb"
    proc = nbrun("run", str(source), flag, "region", b"\xff", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "'region'" in line and "UTF-8" in line
    assert not (tmp_path / "ran").exists() and not out.exists() and source.read_bytes() == before


def _laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")  # 9**9 values in all
    return "\n".join(lines) + "\n"


def _merges() -> str:
    names = "abcdefghijklmnopqrstuv"  # each mapping merges the one before twice: 2**21 merged pairs
    return "a: &a {x: 1}\n" + "".join(
        f"{name}: &{name} {{<<: [*{previous}, *{previous}], {name}: 1}}\n" for previous, name in zip(names, names[1:])
    )


BOMBS = {
    "aliases": (_laughs(), "values"),
    "merge keys": (_merges(), "values"),
    "text": (
        "a: &a " + "x" * 5000 + "\nb: &b [" + ", ".join(["*a"] * 64) + "]\nc: [" + ", ".join(["*b"] * 64) + "]\n",
        "MiB of text",
    ),
    "nesting": ("x: " + "[" * 20000 + "]" * 20000 + "\n", "nested deeper"),
    "recursion": ("x: &a [1, *a]\n", "contains it"),
}


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_a_parameters_file_that_expands_too_far_is_refused(tmp_path: Path, kind: str) -> None:
    text, problem = BOMBS[kind]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(text)
    assert len(text) < 300_000
    source = python_notebook(tmp_path / "nb.ipynb", "open('ran', 'w').write('x')")
    proc = nbrun("run", str(source), "-f", str(bomb), "-o", str(tmp_path / "out.ipynb"), cwd=tmp_path, memory=1 << 30)
    assert proc.returncode == 2, proc.stderr[-2000:]
    line = one_error_line(proc)
    assert line.startswith(f"nbrun: error: {bomb}: parameters refused: ") and problem in line
    assert not (tmp_path / "ran").exists()


def test_yaml_text_on_the_command_line_is_bounded_too(tmp_path: Path) -> None:
    flow = "{" + _laughs().strip().replace("\n", ", ") + "}"
    source = python_notebook(tmp_path / "nb.ipynb", "open('ran', 'w').write('x')")
    proc = nbrun("run", str(source), "-y", flow, cwd=tmp_path, memory=1 << 30)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert one_error_line(proc).startswith("nbrun: error: -y: parameters refused: ")
    assert not (tmp_path / "ran").exists()
