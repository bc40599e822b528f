"""Secrets through the installed command and real kernels: nothing the run writes holds a value (issue 25)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import nbformat
import pytest

from tests.support.load import within
from tests.support.notebooks import make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = str(Path(sys.executable).parent / "nbrun")
VALUE = "Tok3n/with+sym=bols!"
LEAKY_CELLS = (
    "import os, base64, sys\ns = os.environ['DB_TOKEN']\nprint('token', s)",
    "print(s[:7], end='', flush=True)\nimport time\ntime.sleep(0.2)\nprint(s[7:])",  # split across two messages
    "from IPython.display import HTML, JSON, display\ndisplay(HTML(f'<b>{s}</b>'))\ndisplay(JSON({'token': s}))",
    "print(base64.b64encode(b'xy' + s.encode()).decode(), s.encode().hex(), file=sys.stderr)",
    "from urllib.parse import quote\nprint(quote(s, safe=''))",
    "import ipywidgets\nipywidgets.Text(value=s)",
    "answer = input(f'password for {s}: ')",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",
    "s",
    "%xmode Verbose\ndef connect(token):\n    raise ConnectionError(f'refused: {token}')\nconnect(s)",  # locals shown
)


def nbrun_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    environ = {**os.environ, **(env or {})}
    return subprocess.run([NBRUN, *args], capture_output=True, cwd=cwd, env=environ, timeout=within(180))


def leaked_forms(value: str) -> list[bytes]:
    raw = value.encode()
    forms = {value, quote(value, safe=""), quote_plus(value), raw.hex(), raw.hex().upper(), json.dumps(value)[1:-1]}
    forms.update({base64.b64encode(raw).decode().rstrip("="), base64.urlsafe_b64encode(raw).decode().rstrip("=")})
    forms.add(base64.b64encode(b"xy" + raw).decode()[3 : 8 * (2 + len(raw)) // 6])  # as cell 4 prints it
    return [form.encode() for form in forms]


def every_byte_written(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def leaky_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[bytes]]:
    folder = tmp_path_factory.mktemp("leak")
    nbformat.write(make_notebook(*LEAKY_CELLS), folder / "leak.ipynb")
    (folder / "answers.txt").write_text("hunter2\n")
    run = nbrun_cli(
        "run", "leak.ipynb", "-o", "out/leak.ipynb", "--secret", "DB_TOKEN", "--allow-errors", "-v",
        "--stdin-file", "answers.txt", "--html", "--report", "out/page.html", "--json", "out/run.json",
        "--junit-xml", "out/junit.xml", "--events", "out/events.jsonl", "--log-output", "--cache", "out/cache",
        "--extract-images", "out/images", "--autosave", "1",
        cwd=folder,
        env={"DB_TOKEN": VALUE},
    )  # fmt: skip
    return folder, run


def test_no_file_stream_or_entry_the_run_writes_holds_the_value(
    leaky_run: tuple[Path, subprocess.CompletedProcess[bytes]],
) -> None:
    folder, run = leaky_run
    assert run.returncode == 0, run.stderr.decode()
    written = every_byte_written(folder / "out")
    assert {"leak.ipynb", "leak.html", "page.html", "run.json", "junit.xml", "events.jsonl"} <= {
        path.name for path in written
    }
    assert any(path.suffix == ".png" for path in written) and any("cache" in path.parts for path in written)
    written[Path("<stdout>")], written[Path("<stderr>")] = run.stdout, run.stderr
    forms = leaked_forms(VALUE)
    leaks = [(str(path), form) for path, data in written.items() for form in forms if form in data]
    assert leaks == []


def test_the_outputs_say_where_a_secret_was_and_the_records_how_many(
    leaky_run: tuple[Path, subprocess.CompletedProcess[bytes]],
) -> None:
    folder, run = leaky_run
    nb = nbformat.read(folder / "out" / "leak.ipynb", as_version=4)
    assert nb.cells[0].outputs[0]["text"] == "token [secret DB_TOKEN]\n"
    assert nb.cells[1].outputs[0]["text"] == "[secret DB_TOKEN]\n"
    assert nb.cells[2].outputs[1]["data"]["application/json"] == {"token": "[secret DB_TOKEN]"}
    assert "[secret DB_TOKEN]" in nb.cells[9].outputs[-1]["evalue"]
    assert "[secret DB_TOKEN]" in json.dumps(nb.metadata["widgets"])
    record = json.loads((folder / "out" / "run.json").read_text())["notebooks"][0]
    count = record["redactions"]
    assert count >= 10 and nb.metadata["nbrun"]["redactions"] == count
    finished = [json.loads(line) for line in (folder / "out" / "events.jsonl").read_text().splitlines()]
    assert [event["redactions"] for event in finished if event["event"] == "notebook-end"] == [count]
    assert f"{count} secret values redacted".encode() in run.stderr
    assert f"{count} secret values redacted".encode() in (folder / "out" / "junit.xml").read_bytes()


def test_a_changed_secret_misses_the_cache_and_the_same_one_hits(tmp_path: Path) -> None:
    nbformat.write(make_notebook("import os\nprint(len(os.environ['API_KEY']))"), tmp_path / "nb.ipynb")

    def run(value: str) -> dict[str, object]:
        done = nbrun_cli(
            "run", "nb.ipynb", "--secret", "API_KEY", "--cache", "c", "--json", "-", cwd=tmp_path, env={"API_KEY": value}
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        notebook: dict[str, object] = json.loads(done.stdout)["notebooks"][0]
        return notebook

    first, again, changed = run(VALUE), run(VALUE), run(VALUE + "2")
    assert (first["cached"], again["cached"], changed["cached"]) == (False, True, False)
    assert first["cache_key"] == again["cache_key"] != changed["cache_key"]
    stored = every_byte_written(tmp_path / "c")
    assert not [path for path, data in stored.items() for form in leaked_forms(VALUE) if form in data]
    key = nbrun_cli(
        "cache", "key", "nb.ipynb", "--cache", "c", "--secret", "API_KEY", cwd=tmp_path, env={"API_KEY": VALUE}
    )
    assert key.returncode == 0 and first["cache_key"] in key.stdout.decode()
    assert VALUE.encode() not in key.stdout + key.stderr


def test_declared_secrets_come_from_the_environment_and_a_missing_one_stops_before_any_kernel(tmp_path: Path) -> None:
    nb = make_notebook("import os\nprint(os.environ['API_KEY'])")
    nb.metadata["nbrun"] = {"secrets": ["API_KEY"]}
    nbformat.write(nb, tmp_path / "nb.ipynb")
    environ = {name: value for name, value in os.environ.items() if name != "API_KEY"}
    missing = subprocess.run(
        [NBRUN, "run", "nb.ipynb", "-o", "out.ipynb"], capture_output=True, text=True, cwd=tmp_path, env=environ,
        timeout=within(60),
    )  # fmt: skip
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "needs the secret API_KEY (metadata.nbrun.secrets)" in missing.stderr
    assert not (tmp_path / "out.ipynb").exists()
    given = nbrun_cli("run", "nb.ipynb", "-o", "out.ipynb", cwd=tmp_path, env={"API_KEY": VALUE})
    assert given.returncode == 0, given.stderr.decode()
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["text"] == "[secret API_KEY]\n"
    assert out.metadata["nbrun"]["secrets"] == ["API_KEY"]  # the declaration is kept


def test_redact_env_patterns_and_github_masks_come_before_anything_else(tmp_path: Path) -> None:
    nbformat.write(make_notebook("import os\nprint(os.environ['MY_API_TOKEN'])"), tmp_path / "nb.ipynb")
    done = nbrun_cli(
        "run", "nb.ipynb", "--redact-env", "*_TOKEN", "--redact-env", "AWS_SECRET_*", cwd=tmp_path,
        env={"MY_API_TOKEN": VALUE, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stderr.decode().splitlines()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert masks and lines[: len(masks)] == masks  # first, before any other line
    assert f"::add-mask::{VALUE}" in masks
    assert "::add-mask::" + quote(VALUE, safe="").replace("%", "%25") in masks  # the runner's escaping
    out = nbformat.read(tmp_path / "nb.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["text"] == "[secret MY_API_TOKEN]\n"


def test_refused_secrets_are_one_line_and_exit_2(tmp_path: Path) -> None:
    nbformat.write(make_notebook("1"), tmp_path / "nb.ipynb")
    loose = tmp_path / "secrets.env"
    loose.write_text(f"API_KEY={VALUE}\n")
    loose.chmod(0o644)
    cases = {
        ("--secrets-file", str(loose)): "can be read by other users (mode 0644); chmod 600",
        ("--secret", "PIN"): "--secret PIN: its value is shorter than 6 characters",
        ("--secret", "API_KEY=NOT_SET_ANYWHERE"): "the environment variable NOT_SET_ANYWHERE is not set",
    }
    for flags, message in cases.items():
        done = nbrun_cli("run", "nb.ipynb", *flags, cwd=tmp_path, env={"PIN": "1234"})
        stderr = done.stderr.decode()
        assert done.returncode == 2 and stderr.count("\n") == 1 and message in stderr, (flags, stderr)
        assert VALUE not in stderr


def test_the_pytest_plugin_passes_secrets_and_its_failure_report_shows_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.plugin_projects import project, run_pytest

    folder = project(tmp_path)
    nb = make_notebook("import os\nprint('token', os.environ['API_KEY'])", "1 / 0")
    nbformat.write(nb, folder / "uses_token.ipynb")
    monkeypatch.setenv("API_KEY", VALUE)
    done = run_pytest(folder, "--nbrun", "--nbrun-secret", "API_KEY", "--nbrun-output-dir", "out")
    assert done.proc.returncode == 1, done.output  # the notebook fails: its report shows the cells' outputs
    assert "token [secret API_KEY]" in done.output and "ZeroDivisionError" in done.output
    written = (folder / "out" / "uses_token.ipynb").read_bytes()
    assert not [form for form in leaked_forms(VALUE) if form in done.output.encode() or form in written]
