"""Widget (comm) state, saved in ``metadata.widgets`` as Jupyter does."""

from __future__ import annotations

import base64
from typing import Any

from .output_widget import OutputWidgets

WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"


class WidgetStates:
    """Tracks the state of every widget model opened over comms.

    Comms of any other target are tolerated and ignored: only messages whose
    data carries a ``state`` are recorded, as the widget front end does.
    """

    def __init__(self) -> None:
        self._state: dict[str, dict[str, Any]] = {}
        self._buffers: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}
        self.output_widgets = OutputWidgets()  # Output models capture outputs into their state

    def apply(self, msg_type: str, content: dict[str, Any], buffers: list[Any]) -> None:
        """Record a ``comm_open`` / ``comm_msg`` / ``comm_close`` message."""
        comm_id = content.get("comm_id")
        if not isinstance(comm_id, str):
            return
        if msg_type == "comm_close":
            return  # closed widgets keep their last state, like nbclient
        data = content.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("state"), dict):
            return
        self._state.setdefault(comm_id, {}).update(data["state"])
        self.output_widgets.on_state(comm_id, data["state"], self._state[comm_id])
        paths = data.get("buffer_paths") or []
        if paths:
            stored = self._buffers.setdefault(comm_id, {})
            for path, buffer in zip(paths, buffers):
                raw = bytes(buffer) if not isinstance(buffer, bytes) else buffer
                stored[tuple(str(part) for part in path)] = {
                    "data": base64.b64encode(raw).decode("ascii"),
                    "encoding": "base64",
                    "path": list(path),
                }

    def metadata(self) -> dict[str, Any] | None:
        """The ``metadata.widgets`` value, or None when no widget was seen."""
        state: dict[str, Any] = {}
        for comm_id, model in self._state.items():
            if "_model_name" not in model:
                continue
            entry: dict[str, Any] = {
                "model_name": model.get("_model_name"),
                "model_module": model.get("_model_module"),
                "model_module_version": model.get("_model_module_version"),
                "state": model,
            }
            captured = self.output_widgets.outputs_of(comm_id)
            if captured is not None:
                entry["state"] = {**model, "outputs": list(captured)}
            if comm_id in self._buffers:
                entry["buffers"] = list(self._buffers[comm_id].values())
            state[comm_id] = entry
        if not state:
            return None
        return {WIDGET_STATE_MIME: {"state": state, "version_major": 2, "version_minor": 0}}
