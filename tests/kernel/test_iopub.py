"""Huge stream messages are decoded only in part, exactly and safely."""

from __future__ import annotations

import pytest

from nbrun.kernel.iopub import _decode_prefix


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"plain ascii", "plain ascii"),
        (b"line\\nnext\\", "line\nnext"),  # cut inside an escape
        (b"snow \\u2603 and \\u26", "snow \u2603 and "),  # cut inside \\uXXXX
        ("caf\u00e9".encode()[:-1], "caf"),  # cut inside a UTF-8 sequence
        (b"smile \\ud83d\\ude00", "smile \U0001f600"),
        (b"half \\ud83d", "half "),  # half of a surrogate pair is dropped
    ],
)
def test_prefix_decoding(body: bytes, text: str) -> None:
    decoded, used = _decode_prefix(body)
    assert decoded == text
    assert used <= len(body)
    decoded.encode("utf-8")
