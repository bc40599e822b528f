"""ipywidgets Output widgets: outputs go into the widget's state, differential against nbclient.

The notebooks follow ipywidgets' documentation ("Output widgets: leveraging
Jupyter's display system" and "Using Interact").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbrun.api import run_path
from nbrun.execution.outputs import CellOutputs, DisplayRegistry
from nbrun.execution.widgets import WidgetStates
from tests.support.fake_kernel import message
from tests.support.notebooks import make_notebook

pytest.importorskip("ipywidgets")
pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]

DOCS_OUTPUT = (
    "import ipywidgets as widgets\nfrom IPython.display import display, clear_output\n"
    "out = widgets.Output(layout={'border': '1px solid black'})\nout",
    "with out:\n    for i in range(3):\n        print(i, 'Hello world!')",
    "with out:\n    display({'text/plain': 'a rich output'}, raw=True)\n    1 / 0",
    "print('in the cell')\nout.clear_output()\nwith out:\n    print('after clear')",
    "@out.capture()\ndef function_with_captured_output():\n    print('This goes into the output widget')\n"
    "function_with_captured_output()",
    "with out:\n    print('waiting')\n    clear_output(wait=True)\n    print('replaced')",
    "outer, inner = widgets.Output(), widgets.Output()\ndisplay(outer, inner)\n"
    "with outer:\n    print('outer 1')\n    with inner:\n        print('inner')\n    print('outer 2')\nprint('cell')",
    "print(len(out.outputs), [o['output_type'] for o in outer.outputs])  # what the kernel was told",
)
DOCS_INTERACT = (
    "from ipywidgets import interact\ndef f(x):\n    print('x is', x)\n    return x * 2\n_ = interact(f, x=10)",
    "from ipywidgets import interactive\nw = interactive(lambda a, b: a + b, a=1, b=2)\ndisplay(w)",
)


def output_states(nb: nbformat.NotebookNode) -> list[Any]:
    """The outputs saved in each Output model's state (sorted: comm ids differ between runs)."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return sorted(
        (
            normalized(entry["state"].get("outputs", []))
            for entry in state.values()
            if entry.get("model_name") == "OutputModel"
        ),
        key=lambda outputs: json.dumps(outputs, sort_keys=True),
    )


def normalized(outputs: list[Any]) -> list[Any]:
    cleaned = []
    for output in json.loads(json.dumps(outputs)):
        if output.get("output_type") == "error":
            output["traceback"] = len(output.get("traceback", [])) > 0
        if output.get("output_type") in ("display_data", "execute_result"):
            output["data"] = {k: v for k, v in output["data"].items() if not k.endswith("widget-view+json")}
        cleaned.append(output)
    return cleaned


def cell_outputs(nb: nbformat.NotebookNode) -> list[Any]:
    result = []
    for cell in nb.cells:
        outs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                outs.append("widget view")
            elif (
                outs
                and output.get("output_type") == "stream"
                and isinstance(outs[-1], dict)
                and outs[-1].get("output_type") == "stream"
                and outs[-1]["name"] == output["name"]
            ):
                outs[-1]["text"] += output["text"]  # nbclient leaves streams split as they arrived
            else:
                outs.append(normalized([output])[0])
        result.append(outs)
    return result


def both(tmp_path: Path, sources: tuple[str, ...]) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    from nbclient import NotebookClient

    nb = make_notebook(*sources)
    reference = nbformat.from_dict(json.loads(json.dumps(nb)))
    NotebookClient(reference, timeout=60, allow_errors=True).execute()
    path = tmp_path / "widgets.ipynb"
    nbformat.write(nb, path)
    from nbrun.options import ExecuteOptions

    run_path(path, options=ExecuteOptions(allow_errors=True))
    return nbformat.read(path, 4), reference


def test_output_widgets_match_nbclient(tmp_path: Path) -> None:
    ours, reference = both(tmp_path, DOCS_OUTPUT + DOCS_INTERACT)
    assert cell_outputs(ours) == cell_outputs(reference)
    assert output_states(ours) == output_states(reference)
    assert any(output_states(ours)), "no Output widget captured anything"


def comm(msg_type: str, comm_id: str, state: dict[str, Any], parent: str = "cell") -> dict[str, Any]:
    content: dict[str, Any] = {"comm_id": comm_id, "data": {"state": state}}
    if msg_type == "comm_msg":
        content["data"]["method"] = "update"
    return message(msg_type, content, parent)


OPEN = {
    "_model_module": "@jupyter-widgets/output",
    "_model_name": "OutputModel",
    "_model_module_version": "1.0.0",
    "msg_id": "",
    "outputs": [],
}


def test_nesting_and_reset_without_a_kernel() -> None:
    widgets = WidgetStates()
    cell: list[Any] = []
    collector = CellOutputs(cell, DisplayRegistry(), widgets)
    feed = collector.apply
    feed(comm("comm_open", "outer", OPEN))
    feed(comm("comm_open", "inner", OPEN))
    feed(comm("comm_msg", "outer", {"msg_id": "cell"}))
    feed(message("stream", {"name": "stdout", "text": "o1\n"}, "cell"))
    feed(comm("comm_msg", "inner", {"msg_id": "cell"}))
    feed(message("stream", {"name": "stdout", "text": "i\n"}, "cell"))
    feed(message("clear_output", {"wait": True}, "cell"))
    feed(message("stream", {"name": "stdout", "text": "i2\n"}, "cell"))
    feed(comm("comm_msg", "inner", {"msg_id": ""}))
    feed(message("stream", {"name": "stdout", "text": "o2\n"}, "cell"))
    feed(comm("comm_msg", "outer", {"msg_id": ""}))
    feed(message("stream", {"name": "stdout", "text": "cell\n"}, "cell"))
    feed(message("stream", {"name": "stdout", "text": "other request\n"}, "elsewhere"))
    collector.finish()
    state = widgets.metadata()["application/vnd.jupyter.widget-state+json"]["state"]  # type: ignore[index]
    assert state["outer"]["state"]["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "o1\no2\n"}]
    assert state["inner"]["state"]["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "i2\n"}]
    assert [o["text"] for o in cell] == ["cell\nother request\n"]
