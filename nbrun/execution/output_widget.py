"""The front-end side of ipywidgets' Output widget, as JupyterLab and nbclient implement it.

An Output model (``@jupyter-widgets/output`` / ``OutputModel``) captures
outputs while its ``msg_id`` state names a request: every ``stream``,
``display_data``, ``execute_result`` and ``error`` message whose parent is
that request goes into the model's ``outputs`` instead of the cell, and a
``clear_output`` with that parent clears the model (``wait`` deferring it to
the next output). Several models may name the same request (nested ``with``
blocks): the one that named it last captures, until its ``msg_id`` is reset
to ``""``. The outputs are saved in the model's state in ``metadata.widgets``
and, once the cell is done, sent back to the kernel as a state update (as
front ends do, so ``out.outputs`` in the kernel is current; once per cell
rather than once per output).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from nbformat import NotebookNode, from_dict

OUTPUT_MODULE = "@jupyter-widgets/output"
OUTPUT_MODEL = "OutputModel"
CAPTURED = frozenset({"stream", "display_data", "execute_result", "error", "clear_output"})


@runtime_checkable
class CommSender(Protocol):
    def send_comm_update(self, comm_id: str, state: dict[str, Any]) -> None: ...


class OutputModel:
    """One Output widget's captured outputs."""

    def __init__(self, comm_id: str) -> None:
        self.comm_id = comm_id
        self.msg_id = ""
        self.outputs: list[NotebookNode] = []
        self.changed = False  # captured something the kernel has not been told about
        self._clear_pending = False

    def add(self, output: NotebookNode) -> None:
        """Append an output; a stream continuing the last one of its name is merged into it."""
        self.changed = True
        if self._clear_pending:
            self.outputs = []
            self._clear_pending = False
        last = self.outputs[-1] if self.outputs else None
        if (
            last is not None
            and last.get("output_type") == "stream" == output.get("output_type")
            and last.get("name") == output.get("name")
        ):
            last["text"] = last.get("text", "") + output.get("text", "")
            return
        self.outputs.append(output)

    def clear(self, wait: bool) -> None:
        if wait:
            self._clear_pending = True
        else:
            self.outputs = []
            self.changed = True


class OutputWidgets:
    """Every Output model of a run and which request each captures."""

    def __init__(self) -> None:
        self._models: dict[str, OutputModel] = {}
        self._capturing: dict[str, list[OutputModel]] = {}  # msg_id -> models naming it, last captures

    def on_state(self, comm_id: str, update: dict[str, Any], state: dict[str, Any]) -> None:
        """React to a state message from the kernel (*update*; *state* is the model's whole state)."""
        model = self._models.get(comm_id)
        if model is None:
            if state.get("_model_module") != OUTPUT_MODULE or state.get("_model_name") != OUTPUT_MODEL:
                return
            model = self._models[comm_id] = OutputModel(comm_id)
        if isinstance(update.get("outputs"), (list, tuple)):
            model.outputs = [from_dict(output) for output in update["outputs"] if isinstance(output, dict)]
        if "msg_id" in update:
            self._set_msg_id(model, update.get("msg_id") or "")

    def _set_msg_id(self, model: OutputModel, msg_id: str) -> None:
        if model.msg_id:
            stack = self._capturing.get(model.msg_id, [])
            for position in range(len(stack) - 1, -1, -1):
                if stack[position] is model:
                    del stack[position]
                    break
            if not stack:
                self._capturing.pop(model.msg_id, None)
        model.msg_id = msg_id
        if msg_id:
            self._capturing.setdefault(msg_id, []).append(model)

    def capturing(self, parent_msg_id: str | None) -> OutputModel | None:
        """The model that captures outputs of request *parent_msg_id*, if any."""
        if not parent_msg_id or not self._capturing:
            return None
        stack = self._capturing.get(parent_msg_id)
        return stack[-1] if stack else None

    def sync_to(self, kernel: object) -> None:
        """Send each changed model's outputs to the kernel (if it can take comm messages)."""
        if not isinstance(kernel, CommSender):
            return
        for model in self._models.values():
            if model.changed:
                model.changed = False
                kernel.send_comm_update(model.comm_id, {"outputs": model.outputs})

    def outputs_of(self, comm_id: str) -> list[NotebookNode] | None:
        """The captured outputs of an Output model (None for other models)."""
        model = self._models.get(comm_id)
        return None if model is None else model.outputs
