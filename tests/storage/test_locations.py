"""Remote locations through fsspec: memory:// for the logic, real HTTP and S3-compatible servers on 127.0.0.1."""

from __future__ import annotations

import base64
import functools
import http.server
import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.support.cli import invoke, one_line
from tests.support.remote import free_port, notebook_bytes, png_cell, s3, s3_endpoint  # noqa: F401 - the moto fixtures

fsspec = pytest.importorskip("fsspec")
pytestmark = pytest.mark.usefixtures("no_leaked_kernels")

from nbrun import FileOptions, run_path  # noqa: E402
from nbrun.errors import NotebookReadError  # noqa: E402
from nbrun.storage.location_failures import describe_failure  # noqa: E402
from nbrun.storage.locations import Location, as_where, common_folder  # noqa: E402

CWD_CELL = "import os\nprint(os.getcwd())"


# --- the Location type -----------------------------------------------------------------------------------


def test_location_behaves_like_a_path_and_never_shows_credentials() -> None:
    where = Location("s3://AKIDEXAMPLE:s3cr3t@bucket/reports/2026/daily.ipynb?X-Amz-Signature=abc")
    assert "s3cr3t" not in str(where) and "AKID" not in str(where) and "abc" not in where.display
    assert str(where) == "s3://bucket/reports/2026/daily.ipynb"
    assert (where.name, where.stem, where.suffix) == ("daily.ipynb", "daily", ".ipynb")
    assert str(where.parent / "sub" / "x.py") == "s3://bucket/reports/2026/sub/x.py"
    assert str(Location("s3://bucket/a/b.py").with_suffix(".ipynb")) == "s3://bucket/a/b.ipynb"
    base = common_folder([Location("s3://bucket/a/x/1.ipynb"), Location("s3://bucket/a/y/2.ipynb")])
    assert str(base) == "s3://bucket/a"
    assert Location("s3://bucket/a/x/1.ipynb").relative_to(base) == Path("x/1.ipynb")  # type: ignore[arg-type]
    assert common_folder([Location("s3://one/a.ipynb"), Location("s3://two/b.ipynb")]) is None
    assert isinstance(as_where("nb.ipynb"), Path) and as_where("file:///tmp/x.ipynb") == Path("/tmp/x.ipynb")
    echoed = ConnectionRefusedError("cannot reach https://user:pa55@host/x.ipynb?X-Amz-Signature=abc123&a=1")
    line = describe_failure(echoed, "read")
    assert line.startswith("cannot read: endpoint unreachable") and "pa55" not in line and "abc123" not in line
    assert describe_failure(PermissionError("nope"), "write") == "cannot write: access denied"


def test_unknown_scheme_and_missing_extra_are_one_line_exit_2(tmp_path: Path) -> None:
    result = invoke("nosuchscheme://bucket/nb.ipynb")
    assert result.exit_code == 2 and "nosuchscheme://" in one_line(result.stderr)
    blocked = "import sys; sys.modules['fsspec'] = None; from nbrun.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", blocked, "run", "s3://bucket/nb.ipynb"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert one_line(proc.stderr) == (
        "nbrun: error: the URL s3://bucket/nb.ipynb needs the remote extra: pip install 'jupyter-nbrun[remote]'"
    )


def test_http_without_its_client_library_names_the_url_once() -> None:
    blocked = "import sys; sys.modules['aiohttp'] = None; from nbrun.cli import main; main()"
    url = "http://127.0.0.1:9/nb.ipynb"
    proc = subprocess.run([sys.executable, "-c", blocked, "run", url], capture_output=True, text=True, timeout=60)
    line = one_line(proc.stderr)
    assert proc.returncode == 2 and line.count(url) == 1 and "aiohttp" in line, line


# --- memory:// : the logic --------------------------------------------------------------------------------


@pytest.mark.kernel
def test_memory_round_trip_runs_in_a_local_scratch_folder(tmp_path: Path) -> None:
    memory = fsspec.filesystem("memory")
    memory.pipe_file("/in/report.ipynb", notebook_bytes(CWD_CELL, "1 + 1", png_cell()))
    files = FileOptions(extract_images=tmp_path / "img")
    result = run_path("memory://in/report.ipynb", "memory://out/report.ipynb", file_options=files)
    assert result.status.value == "ok"
    written = nbformat.reads(memory.cat_file("/out/report.ipynb").decode(), 4)
    cwd = written.cells[0].outputs[0].text.strip()
    assert Path(cwd).name.startswith("nbrun-cwd-") and cwd.startswith(tempfile.gettempdir())
    assert written.cells[1].outputs[0].data["text/plain"] == "2"
    image = tmp_path / "img" / "report_cell2_output0.png"  # local images of a remote notebook: absolute links
    assert written.cells[2].outputs[0].metadata.filenames["image/png"] == image.as_posix() and image.is_file()
    with pytest.raises(NotebookReadError, match="memory://in/missing.ipynb: no such object"):
        run_path("memory://in/missing.ipynb")


# --- a real HTTP server: reading, and a read-only target ---------------------------------------------------


@pytest.fixture(scope="module")
def http_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("http")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.kernel
def test_http_read_and_an_http_target_refused_before_the_run(http_root: tuple[str, Path], tmp_path: Path) -> None:
    url, root = http_root
    (root / "template.ipynb").write_bytes(notebook_bytes("print('from http')"))
    missing = invoke(f"{url}/missing.ipynb")
    assert missing.exit_code == 5 and one_line(missing.stderr).endswith(
        "missing.ipynb: no such object (HTTP 404 Not Found)"
    )
    read = invoke(f"{url}/template.ipynb", "-o", str(tmp_path / "out.ipynb"))
    assert read.exit_code == 0, read.stderr
    assert nbformat.read(tmp_path / "out.ipynb", 4).cells[0].outputs[0].text == "from http\n"

    refused = invoke(f"{url}/template.ipynb", "-o", f"{url}/out.ipynb")  # HTTP is read-only: said before any kernel
    assert refused.exit_code == 5
    line = one_line(refused.stderr)
    assert line.startswith(f"nbrun: error: {url}/out.ipynb: http:// is read-only") and line.count(url) == 1, line
    assert not (root / "out.ipynb").exists()


# --- an S3-compatible server (moto) ------------------------------------------------------------------------


@pytest.mark.kernel
def test_s3_template_to_dated_report_with_reports(s3: Any) -> None:
    s3.pipe_file(
        "nbrun-reports/templates/daily.ipynb",
        notebook_bytes(("day = 'none'", ["parameters"]), "print('report for', day)", CWD_CELL),
    )
    result = invoke(
        "s3://nbrun-reports/templates/daily.ipynb",
        "-p",
        "day",
        "2026-12-01",
        "-o",
        "s3://nbrun-reports/daily/{day}.ipynb",
        "--json",
        "s3://nbrun-reports/runs/run.json",
        "--junit-xml",
        "s3://nbrun-reports/runs/junit.xml",
    )
    assert result.exit_code == 0, result.stderr
    report = nbformat.reads(s3.cat_file("nbrun-reports/daily/2026-12-01.ipynb").decode(), 4)
    assert report.cells[2].outputs[0].text == "report for 2026-12-01\n"
    assert Path(report.cells[3].outputs[0].text.strip()).name.startswith("nbrun-cwd-")
    record = json.loads(s3.cat_file("nbrun-reports/runs/run.json"))
    assert record["notebooks"][0]["input"] == "s3://nbrun-reports/templates/daily.ipynb"
    assert record["notebooks"][0]["output"] == "s3://nbrun-reports/daily/2026-12-01.ipynb"
    assert b'name="daily.ipynb"' in s3.cat_file("nbrun-reports/runs/junit.xml")
    assert [p for p in s3.find("nbrun-reports") if "nbrun-tmp" in p] == []  # whole objects only


@pytest.mark.kernel
def test_s3_output_dir_mirrors_inputs_and_uploads_images(s3: Any, tmp_path: Path) -> None:
    s3.pipe_file("nbrun-reports/src/a/plot.ipynb", notebook_bytes(png_cell()))
    s3.pipe_file("nbrun-reports/src/b/notes.py", b"# %%\nprint('text notebook from s3')\n")
    result = invoke(
        "s3://nbrun-reports/src/a/plot.ipynb",
        "s3://nbrun-reports/src/b/notes.py",
        "--output-dir",
        "s3://nbrun-reports/built",
        "--extract-images",
        "s3://nbrun-reports/built/img",
    )
    assert result.exit_code == 0, result.stderr
    plot = nbformat.reads(s3.cat_file("nbrun-reports/built/a/plot.ipynb").decode(), 4)
    link = plot.cells[0].outputs[0].metadata.filenames["image/png"]
    assert link == "../img/a/plot_cell0_output0.png"
    image = s3.cat_file("nbrun-reports/built/img/a/plot_cell0_output0.png")
    assert image == base64.b64decode(plot.cells[0].outputs[0].data["image/png"])
    assert s3.exists("nbrun-reports/built/img/a/.nbrun-images.json")
    notes = nbformat.reads(s3.cat_file("nbrun-reports/built/b/notes.ipynb").decode(), 4)
    assert notes.cells[0].outputs[0].text == "text notebook from s3\n"
    assert "wrote 1 image for s3://nbrun-reports/src/a/plot.ipynb to s3://nbrun-reports/built/img/a" in result.stderr


@pytest.mark.kernel
def test_s3_denied_write_keeps_the_executed_notebook_locally(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBRUN_KEEP_DIR", str(tmp_path / "kept"))
    s3.pipe_file("nbrun-reports/templates/fails.ipynb", notebook_bytes("print('ran')", "1/0"))
    result = invoke("s3://nbrun-reports/templates/fails.ipynb", "-o", "s3://nbrun-locked/out/fails.ipynb")
    assert result.exit_code == 5
    error = [line for line in result.stderr.splitlines() if line.startswith("nbrun: error:")]
    assert len(error) == 1 and "access denied" in error[0] and "testing" not in result.stderr
    kept = Path(error[0].rsplit("kept in ", 1)[1])
    nb = nbformat.read(kept, 4)
    assert nb.cells[0].outputs[0].text == "ran\n" and nb.cells[1].outputs[0].ename == "ZeroDivisionError"
    assert not s3.exists("nbrun-locked/out/fails.ipynb")


def test_unreachable_endpoint_fails_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("s3fs")
    monkeypatch.setitem(
        fsspec.config.conf,
        "s3",
        {
            "endpoint_url": f"http://127.0.0.1:{free_port()}",
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"region_name": "us-east-1"},
            "config_kwargs": {"connect_timeout": 1, "read_timeout": 1, "retries": {"max_attempts": 1}},
        },
    )
    result = invoke("s3://nbrun-reports/templates/daily.ipynb")
    assert result.exit_code == 5
    assert "endpoint unreachable" in one_line(result.stderr)
