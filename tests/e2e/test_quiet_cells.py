"""Correct runs are never called "incomplete": quiet cells, objects that display themselves.

The long quiet cells (10 to 65 s) and the 100k-message bursts after a quiet
period run in the background from the start of the session
(``quiet_background``); ``test_long_quiet_cells_*`` collects their results.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import nbrun
from nbrun.kernel.session import KernelSession
from nbrun.options import ExecuteOptions
from nbrun.status import RunStatus
from tests.support import quiet_background
from tests.support.normalize import normalized_cells
from tests.support.notebooks import make_notebook

NBRUN = str(Path(sys.executable).parent / "nbrun")

SELF_DISPLAY = """from IPython.display import display_html, display_javascript
class P:
    def _ipython_display_(self):
        display_html("<div>x</div>", raw=True)
        display_javascript("console.log(1)", raw=True)
P()"""
DISPLAYS_NOTHING = """class Quiet:
    def _ipython_display_(self):
        pass
Quiet()"""
MIMEBUNDLE = """class M:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": "<b>m</b>", "text/plain": "m"}
M()"""
RAW_HELPERS = """from IPython import display as d
for name in ["display_html", "display_javascript", "display_markdown", "display_latex", "display_svg", "display_pretty"]:
    getattr(d, name)("<b>x</b>", raw=True)
d.display_json({"a": 1}, raw=True)
d.display_png(b"\\x89PNG\\r\\n\\x1a\\n", raw=True)
d.display_jpeg(b"\\xff\\xd8", raw=True)
d.display_pdf(b"%PDF", raw=True)
P()"""
WIDGETS_AND_COMMS = """import ipywidgets as w
from comm import create_comm
from IPython.display import display
slider = w.IntSlider(3)
display(slider)
slider.value = 5
c = create_comm(target_name="nbrun-test", data={"a": 1})
c.send({"b": 2})
c.close()
out = w.Output()
display(out)
with out:
    print("in the output widget")
print("after the widgets")
slider"""
ASKS = """name = input("name? ")
P()
print("hello", name)"""


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NBRUN, "run", *args], capture_output=True, text=True, timeout=timeout)


def write(path: Path, *sources: str) -> Path:
    nbformat.write(make_notebook(*sources), path)
    return path


def test_objects_that_display_themselves_are_complete_and_match_nbclient(tmp_path: Path) -> None:
    sources = (
        SELF_DISPLAY,
        DISPLAYS_NOTHING,
        MIMEBUNDLE,
        RAW_HELPERS,
        WIDGETS_AND_COMMS,
        ASKS,
        "P()\nP()",
        "print('end')",
    )
    nb_path = write(tmp_path / "selfdisplay.ipynb", *sources)
    answers = tmp_path / "answers.txt"
    answers.write_text("Ada\n")
    out = tmp_path / "out.ipynb"
    proc = run(str(nb_path), "-o", str(out), "--stdin-file", str(answers), "--json", str(tmp_path / "run.json"))
    assert proc.returncode == 0, proc.stderr
    assert "incomplete" not in proc.stderr
    record = json.loads((tmp_path / "run.json").read_text())
    assert [cell["status"] for cell in record["notebooks"][0]["cells"]] == ["ok"] * len(sources)
    executed = nbformat.read(out, as_version=4)
    assert all("status" not in cell.metadata.get("nbrun", {}) for cell in executed.cells)
    assert any("hello Ada" in o.get("text", "") for o in executed.cells[5].outputs)

    reference = make_notebook(*(s.replace('input("name? ")', '"Ada"') for s in sources))
    NotebookClient(reference, timeout=120, kernel_name="python3").execute()
    ours = normalized_cells(executed)
    theirs = normalized_cells(reference)
    for index in (0, 1, 2, 3, 6, 7):  # the widget cell's model ids and the input cell's prompt differ by design
        assert ours[index] == theirs[index], index


def test_a_lost_display_is_still_found_next_to_a_self_displaying_object(tmp_path: Path) -> None:
    """The displayhook's unsent number is excused once; a second missing number is still a loss.

    The kernel is asked to skip sending one real display (its number is taken
    and the message dropped, as a full high-water mark would).
    """
    lose_one = """ip = get_ipython()
publisher = ip.display_pub
dropped = []
def drop_first(msg):
    if not dropped:
        dropped.append(msg["header"]["msg_id"])
        return None
    return msg
publisher.register_hook(drop_first)
from IPython.display import display
display("kept?")
display("kept")
publisher.unregister_hook(drop_first)
P()"""
    nb_path = write(tmp_path / "lost.ipynb", SELF_DISPLAY, lose_one)
    proc = run(str(nb_path), "-o", str(tmp_path / "out.ipynb"), "--json", str(tmp_path / "run.json"))
    assert proc.returncode == 4, proc.stderr
    assert "cell 2 (index 1, In [2]) incomplete" in proc.stderr
    cell = json.loads((tmp_path / "run.json").read_text())["notebooks"][0]["cells"][1]
    assert cell["status"] == "incomplete" and len(cell["lost_messages"]) == 1
    meta = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[1].metadata.nbrun
    assert meta["lost_messages"] == cell["lost_messages"]


def test_the_kernel_is_asked_about_a_self_displaying_value_only_after_a_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ordinary cells carry no user_expressions (the kernel's formatting of one costs about a ms per cell).

    Only the cell whose value displayed itself leaves a gap with no
    execute_result; one silent request then asks about it, and the cell is complete.
    """
    requests: list[dict[str, object]] = []
    original = KernelSession.execute

    def recording(self: KernelSession, code: str, **kwargs: Any) -> str:
        requests.append({"code": code, **kwargs})
        return original(self, code, **kwargs)

    monkeypatch.setattr(KernelSession, "execute", recording)
    result = nbrun.execute(make_notebook("x = 1", "print(x)", "x", SELF_DISPLAY, "print('end')"))
    assert result.status is RunStatus.OK, result.message
    assert [r["code"] for r in requests if not r.get("user_expressions")] == [
        "x = 1",
        "print(x)",
        "x",
        SELF_DISPLAY,
        "print('end')",
    ]
    probes = [r for r in requests if r.get("user_expressions")]
    assert len(probes) == 1 and probes[0]["silent"] is True and probes[0]["code"] == ""
    assert "_oh" in str(probes[0]["user_expressions"]) and ".get(4)" in str(probes[0]["user_expressions"])


def test_a_quiet_cell_longer_than_the_iopub_silence_is_complete() -> None:
    """The silence allowed for the idle status starts at the reply, not at the last IOPub message."""
    result = nbrun.execute(
        make_notebook("import time; time.sleep(3)", "print('after')"), ExecuteOptions(iopub_silence_timeout=1.0)
    )
    assert result.status is RunStatus.OK, result.message


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_long_quiet_cells_and_bursts_after_them_pass_everywhere() -> None:
    results = quiet_background.wait(timeout=800)
    for name, (returncode, stderr, record) in results.items():
        assert returncode == 0, f"{name}: {stderr}"
        assert "incomplete" not in stderr, name
        if record is not None:
            statuses = {nb["input"]: nb["status"] for nb in record["notebooks"]}
            assert set(statuses.values()) == {"ok"}, (name, statuses)
    for path in quiet_background.burst_outputs():
        outputs = nbformat.read(path, as_version=4).cells[1].outputs
        assert len(outputs) == quiet_background.BURST, path
        assert [o["data"]["text/plain"] for o in outputs[:2]] == ["0", "1"], path
        assert outputs[-1]["data"]["text/plain"] == str(quiet_background.BURST - 1), path
