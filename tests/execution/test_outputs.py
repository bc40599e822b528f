"""Message-to-output mapping, driven by scripted messages (no kernel)."""

from __future__ import annotations

from nbformat import NotebookNode

from nbrun.execution.outputs import CellOutputs, DisplayRegistry
from nbrun.execution.widgets import WIDGET_STATE_MIME, WidgetStates
from tests.support.fake_kernel import message


def collect(*messages: tuple[str, dict], displays: DisplayRegistry | None = None, **kwargs) -> CellOutputs:
    outputs: list[NotebookNode] = []
    collector = CellOutputs(outputs, displays or DisplayRegistry(), WidgetStates(), **kwargs)
    for msg_type, content in messages:
        collector.apply(message(msg_type, content, "p"))
    collector.finish()
    return collector


def test_consecutive_streams_merge_and_apply_carriage_returns() -> None:
    c = collect(
        ("stream", {"name": "stdout", "text": "a\n"}),
        ("stream", {"name": "stdout", "text": "50%\r"}),
        ("stream", {"name": "stdout", "text": "100%\n"}),
    )
    assert c.outputs == [{"output_type": "stream", "name": "stdout", "text": "a\n100%\n"}]


def test_streams_of_other_names_or_separated_by_display_stay_apart() -> None:
    c = collect(
        ("stream", {"name": "stdout", "text": "1\n"}),
        ("stream", {"name": "stderr", "text": "e\n"}),
        ("stream", {"name": "stdout", "text": "2\n"}),
        ("display_data", {"data": {"text/plain": "d"}, "metadata": {}}),
        ("stream", {"name": "stdout", "text": "3\n"}),
    )
    assert [(o.output_type, o.get("text")) for o in c.outputs] == [
        ("stream", "1\n"),
        ("stream", "e\n"),
        ("stream", "2\n"),
        ("display_data", None),
        ("stream", "3\n"),
    ]


def test_clear_output_wait_is_deferred_until_next_output() -> None:
    c = collect(
        ("display_data", {"data": {"text/plain": "frame 0"}, "metadata": {}}),
        ("clear_output", {"wait": True}),
        ("display_data", {"data": {"text/plain": "frame 1"}, "metadata": {}}),
        ("clear_output", {"wait": True}),
    )
    assert [o.data["text/plain"] for o in c.outputs] == ["frame 1"]


def test_clear_output_now_clears_immediately() -> None:
    c = collect(("stream", {"name": "stdout", "text": "old\n"}), ("clear_output", {"wait": False}))
    assert c.outputs == []


def test_display_updates_reach_earlier_cells_even_after_stream_merging() -> None:
    displays = DisplayRegistry()
    first = collect(
        ("stream", {"name": "stdout", "text": "x\n"}),
        ("display_data", {"data": {"text/plain": "v1"}, "metadata": {}, "transient": {"display_id": "d"}}),
        ("stream", {"name": "stdout", "text": "y\n"}),
        ("stream", {"name": "stdout", "text": "z\n"}),
        displays=displays,
    )
    second = collect(
        ("update_display_data", {"data": {"text/plain": "v2"}, "metadata": {"m": 1}, "transient": {"display_id": "d"}}),
        displays=displays,
    )
    assert second.outputs == []
    assert first.outputs[1].data == {"text/plain": "v2"}
    assert first.outputs[1].metadata == {"m": 1}
    assert first.outputs[2].text == "y\nz\n"


def test_new_display_with_known_id_updates_old_ones_and_appends() -> None:
    displays = DisplayRegistry()
    first = collect(
        ("display_data", {"data": {"text/plain": "a"}, "metadata": {}, "transient": {"display_id": "t"}}),
        displays=displays,
    )
    second = collect(
        ("display_data", {"data": {"text/plain": "b"}, "metadata": {}, "transient": {"display_id": "t"}}),
        displays=displays,
    )
    assert first.outputs[0].data["text/plain"] == "b"
    assert second.outputs[0].data["text/plain"] == "b"


def test_cleared_display_is_not_updated_any_more() -> None:
    displays = DisplayRegistry()
    c = collect(
        ("display_data", {"data": {"text/plain": "a"}, "metadata": {}, "transient": {"display_id": "t"}}),
        ("clear_output", {"wait": False}),
        displays=displays,
    )
    displays.update("t", {"data": {"text/plain": "new"}})
    assert c.outputs == []


def test_execute_result_error_and_timing() -> None:
    c = collect(
        ("status", {"execution_state": "busy"}),
        ("execute_input", {"execution_count": 7, "code": "x"}),
        ("execute_result", {"data": {"text/plain": "42"}, "metadata": {}, "execution_count": 7}),
        ("error", {"ename": "E", "evalue": "v", "traceback": ["tb"]}),
    )
    assert c.execution_count == 7
    assert c.outputs[0] == {
        "output_type": "execute_result",
        "data": {"text/plain": "42"},
        "metadata": {},
        "execution_count": 7,
    }
    assert c.outputs[1] == {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["tb"]}
    assert set(c.timing) == {"iopub.status.busy", "iopub.execute_input"}
    assert c.timing["iopub.status.busy"].endswith("Z")


def test_idle_reports_done() -> None:
    outputs: list[NotebookNode] = []
    c = CellOutputs(outputs, DisplayRegistry())
    assert c.apply(message("status", {"execution_state": "busy"}, "p")) is False
    assert c.apply(message("status", {"execution_state": "idle"}, "p")) is True


def test_output_budget_truncates_and_counts() -> None:
    c = collect(*[("stream", {"name": "stdout", "text": "x" * 100})] * 30, max_bytes=1000)
    assert len(c.outputs[0].text) == 1000
    assert c.truncated
    assert c.dropped_bytes == 2000
    big = collect(("display_data", {"data": {"image/png": "A" * 5000}, "metadata": {}}), max_bytes=1000)
    assert big.outputs == [] and big.dropped_messages == 1


def test_clear_output_restores_the_budget() -> None:
    frames = []
    for i in range(50):
        frames += [
            ("clear_output", {"wait": True}),
            ("display_data", {"data": {"text/plain": str(i) * 100}, "metadata": {}}),
        ]
    c = collect(*frames, max_bytes=500)
    assert not c.truncated
    assert c.outputs[0].data["text/plain"] == "49" * 100


def test_widget_state_is_recorded_and_unknown_comms_tolerated() -> None:
    widgets = WidgetStates()
    outputs: list[NotebookNode] = []
    c = CellOutputs(outputs, DisplayRegistry(), widgets)
    state = {
        "_model_name": "IntSliderModel",
        "_model_module": "@jupyter-widgets/controls",
        "_model_module_version": "2.0.0",
        "value": 1,
    }
    c.apply(
        message(
            "comm_open",
            {"comm_id": "w1", "target_name": "jupyter.widget", "data": {"state": state, "buffer_paths": []}},
            "p",
        )
    )
    c.apply(message("comm_msg", {"comm_id": "w1", "data": {"method": "update", "state": {"value": 5}}}, "p"))
    c.apply(message("comm_open", {"comm_id": "x", "target_name": "my.custom.target", "data": {"anything": [1]}}, "p"))
    c.apply(
        message(
            "comm_msg",
            {"comm_id": "b", "data": {"state": {"_model_name": "M"}, "buffer_paths": [["data"]]}},
            "p",
            buffers=[b"\x00\x01"],
        )
    )
    meta = widgets.metadata()
    assert meta is not None
    saved = meta[WIDGET_STATE_MIME]
    assert saved["version_major"] == 2
    assert saved["state"]["w1"]["state"]["value"] == 5
    assert saved["state"]["w1"]["model_name"] == "IntSliderModel"
    assert "x" not in saved["state"]
    assert saved["state"]["b"]["buffers"] == [{"data": "AAE=", "encoding": "base64", "path": ["data"]}]
    assert outputs == []


def test_undecoded_part_of_a_huge_stream_message_is_counted_as_dropped() -> None:
    from nbrun.kernel.iopub import DROPPED_KEY

    outputs: list[NotebookNode] = []
    collector = CellOutputs(outputs, DisplayRegistry(), max_bytes=100)
    msg = message("stream", {"name": "stdout", "text": "x" * 150}, "p")
    msg[DROPPED_KEY] = 1000
    collector.apply(msg)
    collector.finish()
    assert len(outputs[0].text) == 100
    assert collector.dropped_bytes == 1050 and collector.dropped_messages == 1
