"""Receiving IOPub messages without decoding huge stream payloads whole.

A cell that writes 200 MB in one call arrives as one 200 MB message; decoding
it the usual way holds about four copies (the frame, a bytes copy, the JSON
text, the string). Large stream messages are instead decoded piece by piece
straight from the frame, and only up to what could be kept (about
``max_output_bytes``); the rest is counted as dropped, never decoded.
Display, result and update messages larger than that are not decoded at
all: only their envelope is, and their size is counted as dropped. Every
message is checked first as jupyter_client checks it (frames, signature over
the whole message, replay history: :func:`_verify`). Every other message is
decoded as jupyter_client does (signature, replay check, protocol adapter),
except that header dates stay the ISO strings the kernel sent: parsing them
(dateutil, header and parent header) was a quarter of decoding a message,
and nbrun only ever writes them back as strings (``protocol.message_time``).
Shell replies (:func:`receive_shell`) are decoded the same way.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any

from jupyter_client.adapter import adapt

from .protocol import DROPPED_KEY, UNDECODABLE_KEY, Message

_LARGE = 1 << 20  # stream messages bigger than this are decoded piece by piece
_PIECE = 1 << 20
_WS = rb"[ \t\n\r]*"
_NAME_ITEM = rb'"name"' + _WS + rb":" + _WS + rb'"(stdout|stderr)"'
# The only content shapes decoded here: {"name": ..., "text": "...} or {"text": "...", "name": ...}
_NAME_FIRST_HEAD = re.compile(
    rb"\A" + _WS + rb"\{" + _WS + _NAME_ITEM + _WS + rb"," + _WS + rb'"text"' + _WS + rb":" + _WS + rb'"'
)
_NAME_FIRST_TAIL = re.compile(rb'"' + _WS + rb"\}" + _WS + rb"\Z")
_TEXT_FIRST_HEAD = re.compile(rb"\A" + _WS + rb"\{" + _WS + rb'"text"' + _WS + rb":" + _WS + rb'"')
_TEXT_FIRST_TAIL = re.compile(rb'"' + _WS + rb"," + _WS + _NAME_ITEM + _WS + rb"\}" + _WS + rb"\Z")
_RICH = {"display_data", "execute_result", "update_display_data"}


async def receive(client: Any, timeout: float, max_content: int | None) -> Message | None:
    """The next IOPub message, or None after *timeout* seconds.

    A message that cannot be decoded (bad signature, missing frames or
    delimiter, content that is not JSON) is returned as a stand-in carrying
    ``UNDECODABLE_KEY``, so the cell that was waiting counts it and reads on.
    """
    socket = client.iopub_channel.socket
    if not await socket.poll(int(timeout * 1000)):
        return None
    frames = await socket.recv_multipart(copy=False)
    try:
        return _decode(client.session, frames, max_content)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        return {
            "header": {},
            "parent_header": {},
            "metadata": {},
            "content": {},
            "msg_type": None,
            UNDECODABLE_KEY: f"{type(error).__name__}: {error}"[:200],
        }


async def receive_shell(client: Any, timeout: float) -> Message | None:
    """The next shell reply, or None after *timeout* seconds: jupyter_client's ``get_shell_msg``, dates as sent.

    A reply that cannot be decoded raises, as it does there.
    """
    socket = client.shell_channel.socket
    if not await socket.poll(int(timeout * 1000)):
        return None
    frames = await socket.recv_multipart(copy=False)
    _, message_frames = client.session.feed_identities(frames, copy=False)
    _verify(client.session, message_frames)
    return _deserialize(client.session, message_frames)


def _decode(session: Any, frames: list[Any], max_content: int | None) -> Message:
    _, message_frames = session.feed_identities(frames, copy=False)
    _verify(session, message_frames)
    if len(message_frames[4].buffer) > _LARGE:
        large = _large_stream(session, message_frames, max_content)
        if large is not None:
            return large
        if max_content is not None and len(message_frames[4].buffer) > max_content:
            oversized = _oversized_rich(session, message_frames)
            if oversized is not None:
                return oversized
    return _deserialize(session, message_frames)


def _verify(session: Any, frames: list[Any]) -> None:
    """What ``Session.deserialize`` checks before it decodes anything, once per message, on every path.

    The frames are all there, the message is signed, the signature is new
    (jupyter_client's replay history, shared with its own channels) and right.
    """
    if len(frames) < 5:
        raise TypeError(f"malformed message, must have at least 5 elements, not {len(frames)}")
    if session.auth is None:
        return
    signature = frames[0].bytes
    if not signature:
        raise ValueError("Unsigned Message")
    if signature in session.digest_history:
        raise ValueError(f"Duplicate Signature: {signature!r}")
    session._add_digest(signature)
    digest = session.auth.copy()
    for frame in frames[1:5]:
        digest.update(frame.buffer)
    if not hmac.compare_digest(digest.hexdigest().encode("ascii"), signature):
        raise ValueError(f"Invalid Signature: {signature!r}")


def _deserialize(session: Any, frames: list[Any]) -> Message:
    """``Session.deserialize(frames, copy=False)`` after :func:`_verify`, without its date parsing (see above)."""
    header = session.unpack(frames[1].bytes)
    buffers = [frame.buffer for frame in frames[5:]]
    msg: Message = {
        "header": header,
        "msg_id": header["msg_id"],
        "msg_type": header["msg_type"],
        "parent_header": session.unpack(frames[2].bytes),
        "metadata": session.unpack(frames[3].bytes),
        "content": session.unpack(frames[4].bytes),
        "buffers": [buffer if buffer.shape is not None else memoryview(bytes(buffer)) for buffer in buffers],
    }
    adapted: Message = adapt(msg)
    return adapted


def _large_stream(session: Any, frames: list[Any], max_content: int | None) -> Message | None:
    """Decode a large stream message piece by piece, at most *max_content* bytes of it.

    The text is returned as a list of pieces (never one more full copy), and
    what lies past *max_content* is not decoded at all, only counted.
    None if it is not a stream message this can read.
    """
    header = session.unpack(frames[1].bytes)
    if header.get("msg_type") != "stream":
        return None
    content = frames[4].buffer
    shape = _text_span(content)
    if shape is None:
        return None
    name, start, string_end = shape
    limit = string_end if max_content is None else min(string_end, start + max_content)
    pieces: list[str] = []
    position = start
    while position < limit:
        text, used = _decode_prefix(bytes(content[position : min(position + _PIECE, limit)]))
        if used == 0:
            return None  # not a JSON string body after all: let jupyter_client decode it
        pieces.append(text)
        position += used
    msg: Message = {
        "header": header,
        "parent_header": session.unpack(frames[2].bytes),
        "metadata": session.unpack(frames[3].bytes),
        "content": {"name": name, "text": pieces},
        "buffers": [],
        DROPPED_KEY: string_end - position,  # encoded bytes never decoded: exact for plain text
    }
    msg["msg_id"] = msg["header"].get("msg_id")
    msg["msg_type"] = "stream"
    return msg


def _text_span(content: Any) -> tuple[str, int, int] | None:
    """(stream name, start, end) of the "text" string body, if *content* has exactly one of the two shapes.

    The body must hold no unescaped quote (a quote ends a JSON string), so no
    other key can hide inside it; anything else returns None.
    """
    head, tail_offset = bytes(content[:4096]), max(len(content) - 4096, 0)
    tail = bytes(content[tail_offset:])
    head_match = _NAME_FIRST_HEAD.match(head)
    tail_match = _NAME_FIRST_TAIL.search(tail) if head_match else None
    if head_match is not None and tail_match is not None:
        name = head_match.group(1)
    else:
        head_match, tail_match = _TEXT_FIRST_HEAD.match(head), _TEXT_FIRST_TAIL.search(tail)
        if head_match is None or tail_match is None:
            return None
        name = tail_match.group(1)
    start, end = head_match.end(), tail_offset + tail_match.start()
    if end < start or not _plain_string_body(content, start, end):
        return None
    return name.decode(), start, end


def _oversized_rich(session: Any, frames: list[Any]) -> Message | None:
    """A display/result/update message too big to keep: its envelope only, content never decoded.

    The returned message has empty ``data`` and carries the content's size
    under DROPPED_KEY, so the cell counts it as dropped output.
    """
    header = session.unpack(frames[1].bytes)
    msg_type = header.get("msg_type")
    if msg_type not in _RICH:
        return None
    msg: Message = {
        "header": header,
        "parent_header": session.unpack(frames[2].bytes),
        "metadata": {},
        "content": {"data": {}, "metadata": {}},
        "buffers": [],
        DROPPED_KEY: len(frames[4].buffer),
    }
    msg["msg_id"] = msg["header"].get("msg_id")
    msg["msg_type"] = msg_type
    return msg


def _plain_string_body(content: Any, start: int, end: int) -> bool:
    """True if ``content[start:end]`` holds no unescaped quote and does not escape the closing one.

    Scanned in slices that never split a run of backslashes; in each, escaped
    backslashes are removed and every remaining quote must follow a backslash.
    """
    position = start
    while position < end:
        stop = min(position + _PIECE, end)
        while stop < end and content[stop - 1] == 0x5C:  # never cut inside a run of backslashes
            stop += 1
        piece = bytes(content[position:stop])
        position = stop
        if b"\\" not in piece:  # the common case: no escapes at all
            if b'"' in piece:
                return False
            continue
        piece = piece.replace(b"\\\\", b"")
        if piece.count(b'"') != piece.count(b'\\"'):
            return False
        if stop == end and piece.endswith(b"\\"):  # the closing quote would be escaped
            return False
    return True


def _decode_prefix(raw: bytes) -> tuple[str, int]:
    """Decode the longest prefix of a JSON string body that is complete.

    A cut can split an escape (``\\u12``) or a UTF-8 sequence; dropping at most
    a few bytes from the end fixes both. Returns the text and bytes used.
    """
    for cut in range(0, 12):
        piece = raw[: len(raw) - cut]
        try:
            text = json.loads(b'"' + piece + b'"')
        except ValueError:
            continue
        if text and "\ud800" <= text[-1] <= "\udbff":  # half of a surrogate pair: its 6-byte escape waits
            return text[:-1], len(piece) - 6
        return text, len(piece)
    return "", 0
