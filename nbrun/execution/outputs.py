"""Turning IOPub messages into notebook outputs (no I/O here).

``CellOutputs.apply`` takes one IOPub message meant for the running cell and
updates the cell's output list the way Jupyter's front ends do: consecutive
streams of one name merge (with ``\\r``/``\\b`` applied), ``clear_output`` with
``wait=True`` is deferred to the next output, and ``display_id`` updates
reach every output that carries the id, in any cell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nbformat import NotebookNode

from ..kernel.protocol import DROPPED_KEY, Message, message_time
from .output_widget import CAPTURED, OutputModel
from .terminal import TerminalText
from .widgets import WidgetStates

StreamCallback = Callable[[str, str], None]


class DisplayRegistry:
    """Where each ``display_id`` is shown, as references to output nodes.

    Every operation costs time in proportion to the outputs it touches, never
    to the number of display ids known (a ``clear_output`` with 100k ids
    elsewhere costs as little as one without).
    """

    def __init__(self) -> None:
        self._shown: dict[str, dict[int, NotebookNode]] = {}
        self._id_of: dict[int, str] = {}  # id(output node) -> its display_id

    def record(self, display_id: str, output: NotebookNode) -> None:
        self._shown.setdefault(display_id, {})[id(output)] = output
        self._id_of[id(output)] = display_id

    def update(self, display_id: str, content: dict[str, Any]) -> None:
        """Replace data and metadata of every output showing *display_id*."""
        for output in self._shown.get(display_id, {}).values():
            output["data"] = content.get("data", {})
            output["metadata"] = content.get("metadata", {})

    def shown(self, display_id: str) -> list[NotebookNode]:
        """The outputs showing *display_id* now."""
        return list(self._shown.get(display_id, {}).values())

    def forget(self, outputs: list[NotebookNode]) -> None:
        """Drop references to outputs that were cleared (cost: len(outputs))."""
        for output in outputs:
            display_id = self._id_of.pop(id(output), None)
            if display_id is None:
                continue
            shown = self._shown[display_id]
            del shown[id(output)]
            if not shown:
                del self._shown[display_id]

    def size(self) -> int:
        """How many outputs are registered under some display id."""
        return len(self._id_of)


def utf8_size(text: str) -> int:
    """Bytes of *text* in UTF-8 (no copy for ASCII, the common case)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _payload_size(content: dict[str, Any]) -> int:
    size = 0
    for value in content.get("data", {}).values():
        size += utf8_size(value if isinstance(value, str) else str(value))
    return size


class CellOutputs:
    """Collects one cell's outputs and timing from its IOPub messages."""

    def __init__(
        self,
        outputs: list[NotebookNode],
        displays: DisplayRegistry,
        widgets: WidgetStates | None = None,
        *,
        max_bytes: int | None = None,
        on_stream: StreamCallback | None = None,
    ) -> None:
        self.outputs = outputs
        self.timing: dict[str, str] = {}
        self.execution_count: int | None = None
        self.dropped_bytes = 0
        self.dropped_messages = 0
        self.saw_busy = False  # the protocol's first message
        self.saw_input = False  # execute_input, the second: after it, a lost busy lost nothing else
        self._displays = displays
        self._widgets = widgets
        self._max_bytes = max_bytes
        self._on_stream = on_stream
        self._kept_bytes = 0
        self._clear_pending = False
        self._open_stream: tuple[NotebookNode, TerminalText] | None = None

    @property
    def truncated(self) -> bool:
        return self.dropped_messages > 0

    def apply(self, msg: Message) -> bool:
        """Apply one message; return True when it is the cell's ``idle`` status."""
        msg_type = msg.get("header", {}).get("msg_type") or msg.get("msg_type", "")
        content = msg.get("content", {})
        if msg_type in CAPTURED and self._widgets is not None:
            widget = self._widgets.output_widgets.capturing(msg.get("parent_header", {}).get("msg_id"))
            if widget is not None:
                self._to_widget(widget, msg_type, msg)
                return False
        if msg_type == "status":
            state = content.get("execution_state")
            if state == "busy":
                self.saw_busy = True
                self._stamp("iopub.status.busy", msg)
            elif state == "idle":
                self._stamp("iopub.status.idle", msg)
                return True
        elif msg_type == "execute_input":
            self.saw_input = True
            self._stamp("iopub.execute_input", msg)
            count = content.get("execution_count")
            if isinstance(count, int):
                self.execution_count = count
        elif msg_type == "stream":
            counted = self.dropped_messages
            text = content.get("text", "")
            for piece in text if isinstance(text, list) else [text]:  # large messages come in pieces
                self._stream(str(content.get("name", "stdout")), str(piece))
            unread = msg.get(DROPPED_KEY, 0)  # the part of a huge message that was never decoded
            if unread:
                self.dropped_bytes += unread
                self.dropped_messages = counted + 1
        elif msg_type in ("display_data", "execute_result", "update_display_data") and msg.get(DROPPED_KEY):
            self._drop_undecoded(msg_type, msg[DROPPED_KEY])
        elif msg_type in ("display_data", "execute_result"):
            self._display(msg_type, content)
        elif msg_type == "update_display_data":
            self._update(content)
        elif msg_type == "error":
            self._append(_error_output(content), _error_size(content))
        elif msg_type == "clear_output":
            if content.get("wait"):
                self._clear_pending = True
            else:
                self._clear()
        elif msg_type.startswith("comm_") and self._widgets is not None:
            self._widgets.apply(msg_type, content, msg.get("buffers") or [])
        return False

    def sync(self) -> None:
        """Write the open stream's rendered text into its output node."""
        if self._open_stream is not None:
            node, text = self._open_stream
            node["text"] = text.value()

    def finish(self) -> None:
        """Sync and close the open stream (call when the cell is done)."""
        self.sync()
        self._open_stream = None

    def _stamp(self, key: str, msg: Message) -> None:
        stamp = message_time(msg)
        if stamp is not None:
            self.timing[key] = stamp

    def _stream(self, name: str, text: str) -> None:
        if self._on_stream is not None and text:
            self._on_stream(name, text)
        if self._clear_pending:
            self._clear()
        text = self._admit_text(text)
        if not text:
            return
        if self._open_stream is not None and self._open_stream[0]["name"] == name:
            self._open_stream[1].feed(text)
            return
        self.finish()
        node = NotebookNode(output_type="stream", name=name, text="")
        self._open_stream = (node, TerminalText(text))
        self.outputs.append(node)

    def _display(self, msg_type: str, content: dict[str, Any]) -> None:
        display_id = content.get("transient", {}).get("display_id")
        self._update(content)
        node = NotebookNode(
            output_type=msg_type,
            data=content.get("data", {}),
            metadata=content.get("metadata", {}),
        )
        if msg_type == "execute_result":
            node["execution_count"] = content.get("execution_count")
        if self._append(node, _payload_size(content)) and display_id:
            self._displays.record(display_id, node)

    def _to_widget(self, widget: OutputModel, msg_type: str, msg: Message) -> None:
        """An output captured by an Output widget: into its state, within this cell's budget."""
        content = msg.get("content", {})
        if msg_type == "clear_output":
            widget.clear(bool(content.get("wait")))
            return
        if msg.get(DROPPED_KEY) and msg_type != "stream":
            self._drop_undecoded(msg_type, msg[DROPPED_KEY])
            return
        if msg_type == "stream":
            text = content.get("text", "")
            text = self._admit_text("".join(text) if isinstance(text, list) else str(text))
            if msg.get(DROPPED_KEY):
                self.dropped_bytes += msg[DROPPED_KEY]
                self.dropped_messages += 1
            if text:
                widget.add(NotebookNode(output_type="stream", name=str(content.get("name", "stdout")), text=text))
            return
        if msg_type == "error":
            node, size = _error_output(content), _error_size(content)
        else:
            node = NotebookNode(
                output_type=msg_type, data=content.get("data", {}), metadata=content.get("metadata", {})
            )
            if msg_type == "execute_result":
                node["execution_count"] = content.get("execution_count")
            size = _payload_size(content)
        if self._admit(size):
            widget.add(node)

    def _update(self, content: dict[str, Any]) -> None:
        """Apply a ``display_id`` update if the growth it causes fits this cell's budget."""
        display_id = content.get("transient", {}).get("display_id")
        if not display_id:
            return
        targets = self._displays.shown(display_id)
        if not targets:
            return
        growth = _payload_size(content) * len(targets) - sum(_payload_size(target) for target in targets)
        if growth > 0 and not self._admit(growth):
            return
        if growth < 0:
            self._kept_bytes = max(self._kept_bytes + growth, 0)
        self._displays.update(display_id, content)

    def _drop_undecoded(self, msg_type: str, size: int) -> None:
        """A rich message too large to decode: it counts as dropped output."""
        if msg_type != "update_display_data" and self._clear_pending:
            self._clear()
        self.dropped_bytes += size
        self.dropped_messages += 1

    def _append(self, node: NotebookNode, size: int) -> bool:
        if self._clear_pending:
            self._clear()
        if not self._admit(size):
            return False
        self.finish()
        self.outputs.append(node)
        return True

    def _admit(self, size: int) -> bool:
        if self._max_bytes is not None and self._kept_bytes + size > self._max_bytes:
            self.dropped_bytes += size
            self.dropped_messages += 1
            return False
        self._kept_bytes += size
        return True

    def _admit_text(self, text: str) -> str:
        """Keep the part of *text* that fits the byte budget; count the rest."""
        size = utf8_size(text)
        if self._max_bytes is None or self._kept_bytes + size <= self._max_bytes:
            self._kept_bytes += size
            return text
        room = max(self._max_bytes - self._kept_bytes, 0)
        kept = text[:room] if text.isascii() else text.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
        kept_size = utf8_size(kept)
        self.dropped_bytes += size - kept_size
        self.dropped_messages += 1
        self._kept_bytes += kept_size
        return kept

    def _clear(self) -> None:
        self._clear_pending = False
        self._open_stream = None
        self._displays.forget(self.outputs)
        del self.outputs[:]
        self._kept_bytes = 0


def _error_output(content: dict[str, Any]) -> NotebookNode:
    return NotebookNode(
        output_type="error",
        ename=str(content.get("ename", "")),
        evalue=str(content.get("evalue", "")),
        traceback=[str(line) for line in content.get("traceback", [])],
    )


def _error_size(content: dict[str, Any]) -> int:
    return sum(utf8_size(str(line)) for line in content.get("traceback", []))
