"""A message that cannot be decoded is skipped and counted; the cell reads on and is incomplete."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

from tests.support.notebooks import make_notebook

NBRUN = str(Path(sys.executable).parent / "nbrun")

# Sent from inside the kernel on its own IOPub socket: each frame list is one broken message.
SEND_BROKEN = """import json
from IPython.display import display
kernel = get_ipython().kernel
session = kernel.session
delim = b"<IDS|MSG>"
header = json.dumps(session.msg_header("display_data"), default=str).encode()
parent = json.dumps(kernel.get_parent()["header"], default=str).encode()
broken = {
    "bad signature": [b"display_data", delim, b"0" * 64, header, parent, b"{}", b"{}"],
    "two frames": [b"display_data", b"x"],
    "no delimiter": [b"display_data", b"a", b"b", b"c", b"d", b"e"],
    "not JSON": [b"display_data", delim, session.sign([header, parent, b"{}", b"{not json"]),
                 header, parent, b"{}", b"{not json"],
}
for frames in broken.values():
    kernel.iopub_socket.send_multipart(frames)
print("after the broken messages")
display("still shown")"""


def test_each_kind_of_broken_message_is_skipped_and_the_cell_is_incomplete(tmp_path: Path) -> None:
    nb_path = tmp_path / "broken.ipynb"
    nbformat.write(make_notebook(SEND_BROKEN, "print('next')"), nb_path)
    out = tmp_path / "out.ipynb"
    proc = subprocess.run(
        [NBRUN, "run", str(nb_path), "-o", str(out), "--json", str(tmp_path / "run.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 4, proc.stderr
    assert "4 IOPub message(s) that could not be decoded" in proc.stderr
    assert "Traceback" not in proc.stderr
    cell = nbformat.read(out, as_version=4).cells[0]
    texts = [o.get("text", "") for o in cell.outputs] + [o.get("data", {}).get("text/plain", "") for o in cell.outputs]
    assert "after the broken messages\n" in texts and "'still shown'" in texts
    assert cell.metadata.nbrun["status"] == "incomplete" and cell.metadata.nbrun["undecodable_messages"] == 4
    record = json.loads((tmp_path / "run.json").read_text())["notebooks"][0]
    assert record["status"] == "incomplete" and record["cells"][0]["undecodable_messages"] == 4
