"""Hostile ``metadata.filenames``: an output (from a kernel, or a rewritten cache entry) naming a local file
must not get that file into the --html page, the JSON run record or the --report page.

Only images nbrun extracted for the notebook (by the images folder's ownership record) are read back; any
other link is left out with one warning line. Everything goes through the installed ``nbrun`` command.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from tests.support.notebooks import make_notebook

pytest.importorskip("nbconvert", reason="the html extra (nbconvert) is part of the test extra")
pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = str(Path(sys.executable).parent / "nbrun")
REFUSED = "which is not an image nbrun extracted for this notebook; not read"


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (10, 120, 200)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _leaks(text: str, token: str) -> bool:
    """*token* in *text*, as is or inside any base64 (a data: URI)."""
    if token in text:
        return True
    for chunk in re.findall(r"[A-Za-z0-9+/]{16,}={0,2}", text.replace("\\n", "").replace("\n", "")):
        try:
            if token.encode() in base64.b64decode(chunk + "=" * (-len(chunk) % 4)):
                return True
        except ValueError:
            continue
    return False


def _nbrun(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NBRUN, "run", *args, "--no-progress"], capture_output=True, text=True, timeout=180, cwd=cwd)


def _reports(work: Path) -> dict[str, str]:
    return {name: (work / name).read_text(encoding="utf-8") for name in ("out/nb.html", "run.json", "page.html")}


@pytest.fixture
def secret(tmp_path: Path) -> tuple[Path, str]:
    token = "NBRUN-SECRET-" + secrets.token_hex(8)
    path = tmp_path / "private" / "token.txt"
    path.parent.mkdir()
    path.write_text(f"API_TOKEN={token}\n")
    return path, token


def test_kernel_output_naming_local_files_reads_none_of_them(tmp_path: Path, secret: tuple[Path, str]) -> None:
    secret_path, token = secret
    work = tmp_path / "work"
    work.mkdir()
    # another notebook's extracted image, recorded as nbrun's but for another notebook
    other = work / "out" / "images" / "other_cell0_output0.png"
    other.parent.mkdir(parents=True)
    other.write_text(f"OTHER {token}")
    (other.parent / ".nbrun-images.json").write_text(json.dumps({other.name: str(work / "out" / "other.ipynb")}))
    (work / "out" / "images" / "link.svg").symlink_to(secret_path)
    hostile = {
        "image/svg+xml": str(secret_path),  # absolute
        "image/png": "../../private/token.txt",  # relative, climbing out with ..
        "image/gif": "images/other_cell0_output0.png",  # nbrun's, but not this notebook's
        "image/jpeg": "images/link.svg",  # a symlink in the images folder
        "image/webp": "/proc/self/environ",
    }
    code = (
        "from IPython.display import display\n"
        f"display({{'image/png': {_png()!r}}}, raw=True)\n"
        f"display({{'text/plain': 'nothing to see'}}, metadata={{'filenames': {hostile!r}}}, raw=True)"
    )
    nbformat.write(make_notebook(code), work / "nb.ipynb")
    done = _nbrun(
        work,
        "nb.ipynb",
        "--output-dir",
        "out",
        "--extract-images",
        "out/images",
        "--strip-images",
        "--html",
        "--json",
        "run.json",
        "--report",
        "page.html",
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for name, text in _reports(work).items():
        assert not _leaks(text, token), f"{name} holds the secret"
        assert "API_TOKEN" not in text and "PATH=" not in text, name
    warnings = [line for line in done.stderr.splitlines() if REFUSED in line]
    assert len(warnings) == len(hostile), done.stderr
    assert all(line.startswith("nbrun: nb.ipynb: cell 1 (index 0, In [1]), output 1: ") for line in warnings)
    # the image nbrun did extract for this notebook is still inlined, in the page and in the record
    extracted = (work / "out" / "images" / "nb_cell0_output0.png").read_bytes()
    page = (work / "out" / "nb.html").read_text(encoding="utf-8").replace("\n", "")
    assert base64.b64encode(extracted).decode() in page
    [record] = json.loads((work / "run.json").read_text())["notebooks"]
    assert [image["file"] for image in record["images"]] == [str(work / "out" / "images" / "nb_cell0_output0.png")]


def _rewrite_entry(entry: Path, filenames: dict[str, str]) -> None:
    """What a hostile earlier CI job can do to a shared cache: edit a stored run and fix its checksum."""
    header_line, _, body = entry.read_bytes().partition(b"\n")
    header, data = json.loads(header_line), json.loads(body)
    output = data["notebook"]["cells"][0]["outputs"][0]
    output.setdefault("metadata", {})["filenames"] = filenames
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    header.update(sha256=hashlib.sha256(body).hexdigest(), size=len(body))
    entry.write_bytes(json.dumps(header).encode() + b"\n" + body)


def test_cache_entry_rewritten_to_name_a_local_file_replays_without_it(
    tmp_path: Path, secret: tuple[Path, str]
) -> None:
    secret_path, token = secret
    work = tmp_path / "work"
    work.mkdir()
    nbformat.write(
        make_notebook("from IPython.display import display\ndisplay({'text/plain': 'plain'}, raw=True)"),
        work / "nb.ipynb",
    )
    first = _nbrun(work, "nb.ipynb", "--output-dir", "out", "--cache", "cache")
    assert first.returncode == 0, first.stderr
    [entry] = (work / "cache").rglob("*.nbrun")
    _rewrite_entry(entry, {"image/svg+xml": str(secret_path), "image/png": "../../private/token.txt"})
    done = _nbrun(
        work,
        "nb.ipynb",
        "--output-dir",
        "out",
        "--cache",
        "cache",
        "--html",
        "--json",
        "run.json",
        "--report",
        "page.html",
    )
    assert done.returncode == 0, done.stderr
    assert "nbrun: ok (cached) nb.ipynb" in done.stderr  # replayed: no code ran
    for name, text in _reports(work).items():
        assert not _leaks(text, token), f"{name} holds the secret"
    warnings = [line for line in done.stderr.splitlines() if REFUSED in line]
    assert len(warnings) == 2 and "Traceback" not in done.stderr, done.stderr
    assert any(repr(str(secret_path)) in line for line in warnings)
