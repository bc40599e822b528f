"""The large-stream fast path agrees with ``Session.deserialize`` or steps aside (property test)."""

from __future__ import annotations

import datetime
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jupyter_client.jsonutil import extract_dates
from jupyter_client.session import Session

from nbrun.kernel.iopub import _decode, _large_stream
from nbrun.kernel.protocol import DROPPED_KEY, message_time

SESSION = Session(key=b"secret")
WHITESPACE = st.sampled_from(["", " ", "\n  ", "\t"])
TEXT = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(['"', "\\", "\U0001f600", "\x00", "\u2028"]), max_size=60
)


class _Frame:
    """What ``_large_stream`` reads of a zmq Frame."""

    def __init__(self, data: bytes) -> None:
        self.bytes = data
        self.buffer = memoryview(data)


@st.composite
def contents(draw: st.DrawFn) -> bytes:
    """A stream content frame: either key order, extra keys, odd spacing, escapes, non-ASCII."""
    items = [("name", draw(st.sampled_from(["stdout", "stderr", "other"]))), ("text", draw(TEXT))]
    if draw(st.booleans()):
        items.append((draw(st.sampled_from(["extra", "text", "name", "meta"])), draw(st.integers() | TEXT)))
    items = draw(st.permutations(items))
    space = draw(WHITESPACE)
    ascii_only = draw(st.booleans())
    body = ("," + space).join(
        f"{json.dumps(k)}{space}:{space}{json.dumps(v, ensure_ascii=ascii_only)}" for k, v in items
    )
    return ("{" + space + body + space + "}").encode("utf-8", "surrogatepass")


def frames_for(content: bytes) -> list[_Frame]:
    header = SESSION.msg_header("stream")
    parts = [SESSION.pack(header), SESSION.pack({}), SESSION.pack({}), content]
    return [_Frame(SESSION.sign(parts)), *(_Frame(part) for part in parts)]


@settings(max_examples=300, deadline=None)
@given(content=contents(), cut=st.one_of(st.none(), st.integers(min_value=0, max_value=200)))
def test_fast_path_matches_session_deserialize(content: bytes, cut: int | None) -> None:
    frames = frames_for(content)
    try:
        reference = SESSION.deserialize([f.bytes for f in frames], content=True)
    except Exception:  # noqa: BLE001 - jupyter_client rejects it: the fast path must step aside too
        reference = None
    fast = _large_stream(SESSION, frames, cut)
    if fast is None:
        return
    assert reference is not None and reference["msg_type"] == "stream"
    assert set(reference["content"]) == {"name", "text"}
    assert fast["content"]["name"] == reference["content"]["name"]
    text = "".join(fast["content"]["text"])
    if cut is None:
        assert text == reference["content"]["text"] and fast[DROPPED_KEY] == 0
    else:
        assert reference["content"]["text"].startswith(text)
        assert len(text.encode("utf-8", "surrogatepass")) <= cut
    assert extract_dates(fast["header"]) == reference["header"]  # the date left as the string sent


@settings(max_examples=200, deadline=None)
@given(content=contents(), piece=st.integers(min_value=1, max_value=9))
def test_fast_path_agrees_when_scanned_in_tiny_slices(content: bytes, piece: int) -> None:
    """Slices of a few bytes put every cut point inside escapes, backslash runs and UTF-8 sequences."""
    import nbrun.kernel.iopub as iopub

    saved, iopub._PIECE = iopub._PIECE, piece
    try:
        test_fast_path_matches_session_deserialize.hypothesis.inner_test(content, None)  # type: ignore[attr-defined]
    finally:
        iopub._PIECE = saved


@settings(max_examples=200, deadline=None)
@given(content=st.dictionaries(st.text(max_size=8), st.integers() | TEXT, max_size=4), buffers=st.integers(0, 2))
def test_every_other_message_decodes_as_session_deserialize_does_but_its_dates(content: dict, buffers: int) -> None:
    sender, receiver, reference_receiver = (Session(key=b"secret") for _ in range(3))
    message = sender.msg("display_data", content, parent=sender.msg_header("execute_request"))
    parts = [sender.pack(message[part]) for part in ("header", "parent_header", "metadata", "content")]
    payload = [b"buffer %d" % number for number in range(buffers)]
    frames = [_Frame(sender.sign(parts)), *(_Frame(part) for part in (*parts, *payload))]
    ours = _decode(receiver, [_Frame(b"<IDS|MSG>"), *frames], None)
    theirs = reference_receiver.deserialize([frame.bytes for frame in frames], content=True)
    for part in ("header", "parent_header"):
        assert extract_dates(ours[part]) == theirs[part] and isinstance(ours[part]["date"], str)
    assert {k: v for k, v in ours.items() if k not in ("header", "parent_header", "buffers")} == {
        k: v for k, v in theirs.items() if k not in ("header", "parent_header", "buffers")
    }
    assert [bytes(b) for b in ours["buffers"]] == [bytes(b) for b in theirs["buffers"]] == payload
    assert message_time(ours) == message_time(theirs)


@pytest.mark.parametrize("text", ["x", "y" * (3 << 20)], ids=["small", "large stream, decoded piece by piece"])
def test_a_replayed_unsigned_or_forged_message_is_refused_as_jupyter_client_refuses_it(text: str) -> None:
    sender, receiver = Session(key=b"secret"), Session(key=b"secret")
    message = sender.msg("stream", {"name": "stdout", "text": text})
    parts = [sender.pack(message[part]) for part in ("header", "parent_header", "metadata", "content")]
    frames = [_Frame(b"<IDS|MSG>"), _Frame(sender.sign(parts)), *(_Frame(part) for part in parts)]
    _decode(receiver, frames, None)
    with pytest.raises(ValueError, match="Duplicate Signature"):
        _decode(receiver, frames, None)
    with pytest.raises(ValueError, match="Unsigned"):
        _decode(receiver, [frames[0], _Frame(b""), *frames[2:]], None)
    with pytest.raises(ValueError, match="Invalid Signature"):
        _decode(receiver, [frames[0], _Frame(b"0" * 64), *frames[2:]], None)
    with pytest.raises(TypeError, match="malformed"):
        _decode(receiver, frames[:4], None)


@pytest.mark.parametrize(
    ("sent", "written"),
    [
        ("2026-12-07T23:54:12.123456Z", "2026-12-07T23:54:12.123456Z"),
        ("2026-12-07T23:54:12Z", "2026-12-07T23:54:12Z"),
        ("2026-12-07T23:54:12.123Z", "2026-12-07T23:54:12.123000Z"),
        ("2026-12-08T01:54:12.123456+02:00", "2026-12-07T23:54:12.123456Z"),
        ("not a date", "not a date"),
    ],
)
def test_a_kernel_date_in_any_iso_form_is_written_in_jupyters(sent: str, written: str) -> None:
    assert message_time({"header": {"date": sent}}) == written


def test_a_date_without_a_zone_is_local_time_as_jupyter_client_reads_it() -> None:
    local = datetime.datetime(2026, 12, 7, 23, 54, 12, 123456).astimezone()
    assert message_time({"header": {"date": "2026-12-07T23:54:12.123456"}}) == message_time({"header": {"date": local}})
