"""The large-stream fast path agrees with ``Session.deserialize`` or steps aside (property test)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from jupyter_client.session import Session

from nbrun.kernel.iopub import _large_stream
from nbrun.kernel.protocol import DROPPED_KEY

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
    assert fast["header"] == reference["header"]


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
