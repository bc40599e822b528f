"""Issue 13, a new user's first hour: each item through the installed ``nbrun`` command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.support.load import within
from tests.support.notebooks import make_notebook

pytestmark = pytest.mark.usefixtures("no_leaked_kernels")
NBRUN = str(Path(sys.executable).parent / "nbrun")


def nbrun(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NBRUN, *args], input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_python_dash_m_nbrun_is_the_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "nbrun", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("nbrun, version ")
    assert proc.stdout == nbrun("--version").stdout


def test_papermill_habit_is_refused_before_anything_runs(tmp_path: Path) -> None:
    source = tmp_path / "in.ipynb"
    nbformat.write(make_notebook("open('ran', 'w').write('x')"), source)
    before = source.read_bytes()
    proc = nbrun("run", str(source), str(tmp_path / "out" / "new.ipynb"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("nbrun: error: ")
    assert "use -o" in proc.stderr and "Traceback" not in proc.stderr
    assert source.read_bytes() == before and not (tmp_path / "ran").exists() and not (tmp_path / "out").exists()


def test_every_missing_path_is_an_error_before_any_kernel(tmp_path: Path) -> None:
    first = tmp_path / "a.ipynb"
    nbformat.write(make_notebook("open('ran', 'w').write('x')"), first)
    proc = nbrun("run", str(first), str(tmp_path / "gone.ipynb"), str(tmp_path / "also-gone.ipynb"))
    assert proc.returncode == 5
    assert proc.stderr == f"nbrun: error: {tmp_path / 'gone.ipynb'}: no such file\n"
    assert not (tmp_path / "ran").exists()


@pytest.mark.kernel
def test_restart_on_death_reports_the_death_and_the_tail_has_no_banner(tmp_path: Path) -> None:
    dies = tmp_path / "dies.ipynb"
    nbformat.write(
        make_notebook(
            "x = 1",
            "import os, time\nos.write(2, b'last words\\n')\ntime.sleep(0.3)\nos._exit(3)",
            "print('x' in globals())",
        ),
        dies,
    )
    fine = tmp_path / "fine.ipynb"
    nbformat.write(make_notebook("1"), fine)
    junit, record = tmp_path / "junit.xml", tmp_path / "run.json"
    proc = nbrun("run", str(dies), str(fine), "--restart-on-death", "--junit-xml", str(junit), "--json", str(record))
    assert proc.returncode == 4, proc.stderr
    summary_row = next(line for line in proc.stderr.splitlines() if line.startswith(str(dies)))
    assert "kernel died" in summary_row and "restarted once" in summary_row and "2 (index 1)" in summary_row
    meta = nbformat.read(dies, 4).metadata.nbrun
    assert meta["status"] == "kernel-died" and meta["kernel_restarts"] == 1 and meta["failed_cell"] == 1
    tail = meta["kernel_exit"]["stderr_tail"]
    assert "last words" in tail and "NOTE: When using the `ipython kernel` entry point" not in tail
    assert "NOTE: When using" not in junit.read_text() and "restarted once" in junit.read_text()
    assert '<error message="kernel died in cell 2 (index 1, In [2])' in junit.read_text()
    notebook = json.loads(record.read_text())["notebooks"][0]
    assert notebook["status"] == "kernel-died" and notebook["exit_code"] == 4 and notebook["kernel_restarts"] == 1
    assert notebook["error"]["cell"] == 1  # machine records keep the 0-based index


@pytest.mark.kernel
def test_dash_output_is_stdout_and_dash_input_is_stdin(tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook("import os; print(os.getcwd())"), source)
    before = source.read_bytes()
    proc = nbrun("run", str(source), "-o", "-")
    assert proc.returncode == 0, proc.stderr
    written = nbformat.reads(proc.stdout, 4)  # stdout holds only the notebook
    assert written.metadata.nbrun["status"] == "ok" and written.cells[0].outputs[0].text == f"{tmp_path}\n"
    assert "-> <stdout>" in proc.stderr and source.read_bytes() == before and not (tmp_path / "-").exists()
    piped = nbrun("run", "-", "--json", str(tmp_path / "run.json"), stdin=before.decode(), cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    executed = nbformat.reads(piped.stdout, 4)
    assert executed.cells[0].outputs[0].text == f"{tmp_path}\n"  # a notebook on stdin runs in the current folder
    notebook = json.loads((tmp_path / "run.json").read_text())["notebooks"][0]
    assert (notebook["input"], notebook["output"]) == ("<stdin>", "<stdout>")
    clash = nbrun("run", str(source), "-o", "-", "--json", "-")
    assert clash.returncode == 2 and "both write to stdout" in clash.stderr


@pytest.mark.kernel
def test_reports_agree_with_what_happened(tmp_path: Path) -> None:
    (tmp_path / "tree" / "etl").mkdir(parents=True)
    (tmp_path / "tree" / "skip").mkdir()
    nbformat.write(make_notebook("1/0"), tmp_path / "tree" / "etl" / "a.ipynb")
    nbformat.write(make_notebook("1"), tmp_path / "tree" / "etl" / "b.ipynb")
    nbformat.write(make_notebook("1"), tmp_path / "tree" / "skip" / "c.ipynb")
    record = tmp_path / "run.json"
    proc = nbrun(
        "run",
        "tree",
        "--exclude",
        "skip",
        "--output-dir",
        "executed",
        "--fail-fast",
        "--json",
        str(record),
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "executed" / "etl" / "a.ipynb").is_file()  # the mirror root is the argument, not etl/
    ran, skipped = json.loads(record.read_text())["notebooks"]
    assert ran["output"] == str(Path("executed/etl/a.ipynb"))
    assert skipped["status"] == "skipped" and skipped["output"] is None  # never written


@pytest.mark.kernel
def test_params_grid_summary_names_each_run(tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook(("n = 0", ["parameters"]), "n"), source)
    (tmp_path / "grid.yaml").write_text("- {n: 1}\n- {n: 2}\n")
    proc = nbrun(
        "run", str(source), "--params-grid", str(tmp_path / "grid.yaml"), "-o", str(tmp_path / "out-{n}.ipynb")
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split()[0] for line in proc.stderr.splitlines() if line.startswith(str(tmp_path))]
    assert rows == [str(tmp_path / "out-1.ipynb"), str(tmp_path / "out-2.ipynb")]


def test_junit_interrupted_run_is_an_error_never_started_is_skipped(tmp_path: Path) -> None:
    from nbrun.cli.output.run_records import junit_xml
    from nbrun.errors import ExecutionInterrupted
    from nbrun.options import ExecuteOptions
    from nbrun.result import ExecutionResult, RunStatus
    from nbrun.runners.batch import BatchJob, BatchOutcome

    options = ExecuteOptions()
    ran = ExecutionResult(
        make_notebook("1"),
        RunStatus.INTERRUPTED,
        [],
        "python3",
        "t",
        "t",
        1.0,
        failed_cell=0,
        message="interrupted (SIGINT) in cell 1 (index 0)",
    )
    outcomes = [
        BatchOutcome(BatchJob(Path("a.ipynb"), Path("a.ipynb"), options), result=ran),
        BatchOutcome(
            BatchJob(Path("b.ipynb"), Path("b.ipynb"), options),
            error=ExecutionInterrupted("interrupted (SIGINT) while the kernel was starting"),
        ),
        BatchOutcome(BatchJob(Path("c.ipynb"), Path("c.ipynb"), options), skipped_reason="not run: SIGINT"),
    ]
    xml = junit_xml(outcomes, "2026-01-01T00:00:00", 1.0)
    assert 'errors="1"' in xml and 'skipped="2"' in xml
    assert '<error message="interrupted (SIGINT) in cell 1 (index 0)"' in xml


@pytest.mark.kernel
def test_quiet_successes_say_what_was_not_clean(tmp_path: Path) -> None:
    raising, chatty, asking = tmp_path / "raising.ipynb", tmp_path / "chatty.ipynb", tmp_path / "asking.ipynb"
    nbformat.write(make_notebook("1/0", "x = 1", "{}['k']"), raising)
    nbformat.write(make_notebook("print('y' * 5000)", "print('z' * 5000)"), chatty)
    nbformat.write(make_notebook("input('name? ')"), asking)
    junit = tmp_path / "junit.xml"
    proc = nbrun(
        "run", str(raising), str(chatty), "--allow-errors", "--max-output-bytes", "1000", "--junit-xml", str(junit)
    )
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stderr.splitlines() if line.startswith(str(raising)))
    assert "ok, 2 cells raised" in row
    assert proc.stderr.count("output truncated") == 1  # once per notebook, naming the first cell
    assert f"nbrun: warning: {chatty}: output truncated in cell 1 (index 0, In [1]) and 1 more cell" in proc.stderr
    assert "cell 3 (index 2, In [3]) KeyError" in junit.read_text()
    asked = nbrun("run", str(asking))
    assert asked.returncode == 1 and "use --stdin-file to answer input() calls" in asked.stderr


@pytest.mark.kernel
def test_events_stream_is_flushed_per_line_and_matches_its_schema(tmp_path: Path) -> None:
    import time

    import jsonschema

    schema = json.loads((Path(nbrun_module_file()).parent / "schemas" / "events.schema.json").read_text())
    gate = tmp_path / "gate"
    source = tmp_path / "nb.ipynb"
    nbformat.write(
        make_notebook(
            "print('x' * 3000)", f"import os, time\nwhile not os.path.exists({str(gate)!r}): time.sleep(0.05)", "1/0"
        ),
        source,
    )
    events = tmp_path / "reports" / "events.jsonl"  # the folder is created, as for --json
    proc = subprocess.Popen(
        [NBRUN, "run", str(source), "--events", str(events), "--max-output-bytes", "1000"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + within(60)
        while {"event": "cell-start", "index": 1}.items() - _last_event(events).items():
            assert proc.poll() is None and time.monotonic() < deadline, "no cell-start for cell 1 while it runs"
            time.sleep(0.05)
        gate.touch()  # cell 1 waits for this: the events so far were on disk while the cell still ran
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, stderr
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    for line in lines:
        jsonschema.validate(line, schema)
    kinds = [line["event"] for line in lines]
    assert kinds[0] == "run-start" and kinds[1] == "notebook-start" and kinds[-2:] == ["notebook-end", "run-end"]
    truncated = next(line for line in lines if line["event"] == "output-truncated")
    assert truncated["index"] == 0 and truncated["dropped_bytes"] > 0
    ends = [line for line in lines if line["event"] == "cell-end"]
    assert [(e["index"], e["status"]) for e in ends] == [(0, "ok"), (1, "ok"), (2, "error")]
    assert ends[2]["ename"] == "ZeroDivisionError"
    assert lines[-2]["status"] == "error" and lines[-2]["failed_cell"] == 2 and lines[-1]["exit_code"] == 1


def _last_event(path: Path) -> dict[str, object]:
    lines = path.read_text().splitlines() if path.exists() else []
    return json.loads(lines[-1]) if lines else {}


def nbrun_module_file() -> str:
    import nbrun as package

    return str(package.__file__)


def test_prepare_only_injects_parameters_and_runs_nothing(tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    nb = make_notebook(("n = 0", ["parameters"]), "open('ran', 'w').write(str(n))")
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="stale\n")]
    nbformat.write(nb, source)
    proc = nbrun(
        "run", str(source), "-p", "n", "7", "-o", str(tmp_path / "out-{n}.ipynb"), "--prepare-only", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    prepared = nbformat.read(tmp_path / "out-7.ipynb", 4)
    assert prepared.cells[1].source.endswith("n = 7\n") and "injected-parameters" in prepared.cells[1].metadata.tags
    assert prepared.cells[2].outputs == [] and prepared.metadata.nbrun == {"status": "prepared", "parameters": {"n": 7}}
    assert not (tmp_path / "ran").exists() and "prepared" in proc.stderr and "not run" in proc.stderr


@pytest.mark.kernel
def test_log_output_names_each_line_and_streams_go_to_files(tmp_path: Path) -> None:
    nbformat.write(
        make_notebook("print('one\\ntwo')", "import sys; print('oops', file=sys.stderr)"), tmp_path / "a.ipynb"
    )
    nbformat.write(make_notebook("print('three', end='')"), tmp_path / "longer.ipynb")
    proc = nbrun(
        "run",
        "a.ipynb",
        "longer.ipynb",
        "--log-output",
        "--stdout-file",
        "logs/{stem}.out",
        "--stderr-file",
        "logs/{name}.err",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    for line in ("a.ipynb      | one", "a.ipynb      | two", "a.ipynb      | oops", "longer.ipynb | three"):
        assert line in lines  # aligned, plain (not a terminal)
    assert (tmp_path / "logs" / "a.out").read_text() == "one\ntwo\n"
    assert (tmp_path / "logs" / "a.ipynb.err").read_text() == "oops\n"
    assert (tmp_path / "logs" / "longer.out").read_text() == "three"
    clash = nbrun("run", "a.ipynb", "longer.ipynb", "--stdout-file", "all.out", cwd=tmp_path)
    assert clash.returncode == 2 and "{name} or {stem}" in clash.stderr


def _screen(drawn: str) -> list[str]:
    """What a terminal shows after *drawn*: \\r, \\n, cursor-up and erase-line applied, colours dropped."""
    lines, row, col = [""], 0, 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+|\x1b", drawn):
        if token == "\n":
            row, col = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif token == "\r":
            col = 0
        elif token.startswith("\x1b[") and token[-1] == "A":
            row = max(row - int(token[2:-1] or 1), 0)
        elif token.startswith("\x1b[") and token[-1] == "K":
            lines[row] = lines[row][:col]
        elif not token.startswith("\x1b"):
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    return [line.rstrip() for line in lines]


@pytest.mark.kernel
def test_messages_go_above_the_bars_and_ctrl_c_leaves_no_fragments(tmp_path: Path) -> None:
    import fcntl
    import os
    import pty
    import select
    import signal
    import struct
    import termios
    import time

    nbformat.write(make_notebook("x = 1", "import os; os._exit(1)", "y = 2"), tmp_path / "dies.ipynb")
    nbformat.write(make_notebook("x = 1", "import time; time.sleep(60)", "y = 2"), tmp_path / "slow.ipynb")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [NBRUN, "run", "dies.ipynb", "slow.ipynb", "-j", "2", "--restart-on-death"],
        stderr=slave,
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    os.close(slave)
    drawn, interrupted, deadline = "", False, time.monotonic() + within(90)
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                drawn += data.decode("utf-8", "replace")
            if not interrupted and "FAILED dies.ipynb" in drawn and "slow.ipynb:  33%" in drawn:
                proc.send_signal(signal.SIGINT)  # slow.ipynb is in its second cell, its bar on screen
                interrupted = True
        proc.wait(timeout=60)
    finally:
        proc.kill()
        os.close(master)
    assert interrupted and proc.returncode == 130, drawn[-2000:]
    screen = _screen(drawn)
    messages = [line for line in screen if "nbrun:" in line]
    assert any("a fresh kernel was started" in line for line in messages)
    for line in messages:  # every message on a line of its own, no bar glued to it
        assert line.startswith("nbrun:") and "nb/s" not in line and "s/nb" not in line and "/cell" not in line, line
    assert not [line for line in screen if "cell/s" in line or "s/cell" in line]  # the cell bars are gone
    assert any(line.startswith("nbrun: FAILED slow.ipynb: interrupted (SIGINT)") for line in screen)


def test_help_spells_values_one_way_states_defaults_and_marks_repeatable_flags() -> None:
    top = nbrun("--help").stdout
    commands = top.split("Commands:")[1].strip().splitlines()
    names = {line.split()[0] for line in commands if line.strip()}
    assert {"run", "inspect", "check", "cache", "report"} <= names
    assert all(line.rstrip().endswith(".") and "..." not in line for line in commands)
    text = nbrun("run", "--help").stdout
    metavars = set(re.findall(r"^\s+(?:-\w, )?--[\w-]+ ([A-Za-z][A-Za-z|:/\[\]=]*(?: VALUE)?)", text, re.M))
    assert metavars <= {
        "N|auto",
        "PATTERN",
        "FILE",
        "DIR",
        "NAME",
        "SECONDS",
        "SIZE",
        "N",
        "MODULES",
        "NAME VALUE",
        "YAML",
        "ADDRESS|local:N",
        "EXPECTATION",
        "I/N",
        "NAME[=ENVVAR]",
    }, metavars
    flat = " ".join(text.split())
    assert "--timeout SECONDS Per-cell wall-clock limit; on expiry the cell is interrupted. [default: no limit]" in flat
    for flag in ("--exclude", "--parameter", "--raw-parameter", "--parameters-yaml", "--parameters-file", "--verbose"):
        assert "repeatable" in flat.split(flag, 1)[1].split(" --", 1)[0], flag


@pytest.mark.kernel
def test_refused_images_keep_the_notebook_and_the_reports_say_so(tmp_path: Path) -> None:
    png = (
        "import io\nfrom PIL import Image as P\nfrom IPython.display import Image, display\n"
        "b = io.BytesIO(); P.new('RGB', (4, 4), 'red').save(b, 'PNG'); display(Image(b.getvalue()))"
    )
    nbformat.write(make_notebook(png), tmp_path / "nb.ipynb")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "out_cell0_output0.png").write_bytes(b"not ours")  # images are named after the output
    proc = nbrun(
        "run",
        "nb.ipynb",
        "-o",
        "out.ipynb",
        "--extract-images",
        "img",
        "--json",
        "run.json",
        "--junit-xml",
        "junit.xml",
        cwd=tmp_path,
    )
    assert proc.returncode == 5, proc.stderr
    assert "; the notebook ran (ok) and was written to out.ipynb" in proc.stderr  # the refusal hides no success
    assert (tmp_path / "img" / "out_cell0_output0.png").read_bytes() == b"not ours"
    assert (
        nbformat.read(tmp_path / "out.ipynb", 4).cells[0].outputs[0].output_type == "display_data"
    )  # as the README says
    notebook = json.loads((tmp_path / "run.json").read_text())["notebooks"][0]
    assert notebook["status"] == "io-error" and notebook["exit_code"] == 5 and notebook["output"] == "out.ipynb"
    assert '<error message="' in (tmp_path / "junit.xml").read_text()
