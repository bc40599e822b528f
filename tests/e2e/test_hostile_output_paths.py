"""Object keys with ``..``: a mirrored output (--output-dir, local or a URL) and a mirrored images folder
must stay inside their folder; a key that climbs out is that notebook's one-line error, the rest runs.

The S3 keys come from a moto server; the batch runs through the installed ``nbrun`` command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nbrun.storage.locations import Location, is_below
from tests.support.remote import notebook_bytes, png_cell, s3, s3_endpoint  # noqa: F401 - the moto fixtures

NBRUN = str(Path(sys.executable).parent / "nbrun")
ESCAPING = "nbrun-reports/nbs/sub/../../../../../ESCAPED.ipynb"


def test_is_below_resolves_dots_and_keeps_stores_apart(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert is_below(out / "a" / "b.ipynb", out) and is_below(out / "a" / ".." / "b.ipynb", out) and is_below(out, out)
    assert not is_below(out / "sub" / ".." / ".." / "x.ipynb", out)
    assert not is_below(out / "/etc/x.ipynb", out) and not is_below(tmp_path / "outside", out)
    root = Location("s3://bucket/out")
    assert is_below(root / "a/b.ipynb", root) and is_below(Location("s3://bucket/out/"), root)
    assert not is_below(root / "sub/../../x.ipynb", root)
    assert not is_below(Location("s3://bucket/outer/x.ipynb"), root)
    assert not is_below(Location("s3://other/out/x.ipynb"), root) and not is_below(root / "x", out)


@pytest.fixture
def escaping_keys(s3: Any, s3_endpoint: str, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Two notebooks under s3://nbrun-reports/nbs/, one of them keyed with '..'; the env that reaches moto."""
    for path in s3.find("nbrun-reports"):
        s3.rm_file(path)
    s3.pipe_file("nbrun-reports/nbs/good/fine.ipynb", notebook_bytes(png_cell()))
    s3.pipe_file(ESCAPING, notebook_bytes(png_cell()))
    assert ESCAPING in s3.find("nbrun-reports/nbs")  # the key is stored as is
    options = {
        "endpoint_url": s3_endpoint,
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"region_name": "us-east-1"},
    }
    env = {"FSSPEC_S3": json.dumps(options), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    work = tmp_path / "a" / "b" / "c" / "work"  # deep enough that an escape would still land in tmp_path
    work.mkdir(parents=True)
    return env, work


def _nbrun(work: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NBRUN, "run", "s3://nbrun-reports/nbs/**", *args, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=work,
        env={**os.environ, **env},
    )


def _refusal(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("nbrun: error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert f"(s3://{ESCAPING} climbs out of it with '..'); not run" in lines[0]
    return lines[0]


@pytest.mark.kernel
def test_key_climbing_out_of_a_local_output_dir_is_refused(
    escaping_keys: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, work = escaping_keys
    done = _nbrun(work, env, "--output-dir", "out", "--extract-images", "images", "--json", "run.json")
    assert done.returncode == 5, done.stderr
    line = _refusal(done.stderr)
    assert "ESCAPED.ipynb" in line and "is outside the output folder out" in line
    assert (work / "out" / "good" / "fine.ipynb").is_file()  # the rest of the batch ran
    assert (work / "images" / "good" / "fine_cell0_output0.png").is_file()
    assert [p for p in tmp_path.rglob("ESCAPED*")] == []
    assert sorted(p.name for p in tmp_path.rglob("*.png")) == ["fine_cell0_output0.png"]
    statuses = {Path(nb["input"]).name: nb["status"] for nb in json.loads((work / "run.json").read_text())["notebooks"]}
    assert statuses == {"fine.ipynb": "ok", "ESCAPED.ipynb": "io-error"}


@pytest.mark.kernel
def test_key_climbing_out_of_the_images_folder_is_refused(
    escaping_keys: tuple[dict[str, str], Path], tmp_path: Path, s3: Any
) -> None:
    env, work = escaping_keys  # in place: only the images folder mirrors the keys
    done = _nbrun(work, env, "--extract-images", "images")
    assert done.returncode == 5, done.stderr
    assert "is outside the images folder images" in _refusal(done.stderr)
    assert sorted(p.name for p in tmp_path.rglob("*.png")) == ["fine_cell0_output0.png"]
    assert (work / "images" / "good" / "fine_cell0_output0.png").is_file()


@pytest.mark.kernel
def test_key_climbing_out_of_a_url_output_dir_is_refused(escaping_keys: tuple[dict[str, str], Path], s3: Any) -> None:
    env, work = escaping_keys
    done = _nbrun(work, env, "--output-dir", "s3://nbrun-reports/built", "--extract-images", "s3://nbrun-reports/img")
    assert done.returncode == 5, done.stderr
    assert "is outside the output folder s3://nbrun-reports/built" in _refusal(done.stderr)
    written = sorted(s3.find("nbrun-reports"))
    assert (
        "nbrun-reports/built/good/fine.ipynb" in written and "nbrun-reports/img/good/fine_cell0_output0.png" in written
    )
    assert [key for key in written if "ESCAPED" in key] == [ESCAPING]  # only the input
    assert [key for key in written if ".." in key] == [ESCAPING]
