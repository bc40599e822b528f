"""Replacing secrets in what a kernel sends, before anything stores or shows it.

:class:`Redactor` replaces each secret's value and its encoded forms
(:func:`~nbrun.secrets.values.encoded_forms`) with ``[secret NAME]`` in text,
in JSON-like data (every string of a display bundle, an error, a widget's
state) and in binary buffers, and counts the replacements: the run reports
how many, never where. :meth:`Redactor.unsafe_tail` tells how much of a
stream chunk's end could be the start of a value split across chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .values import Secret, encoded_forms


class Redactor:
    """The secrets of one run as one pattern, and how many replacements it made."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        names: dict[str, str] = {}
        for secret in secrets:
            for form in encoded_forms(secret.value):
                names.setdefault(form, secret.name)
        forms = sorted(names, key=lambda form: (-len(form), form))  # the longest form wins where two overlap
        self._names = names
        self._text = re.compile("|".join(map(re.escape, forms))) if forms else None
        self._bytes = re.compile(b"|".join(re.escape(form.encode("utf-8", "surrogatepass")) for form in forms))
        self._prefixes = {form[:length] for form in forms for length in range(1, len(form))}
        self._longest = max(map(len, forms), default=0)
        self.count = 0

    def __bool__(self) -> bool:
        return self._text is not None

    def text(self, text: str, *, count: bool = True) -> str:
        """*text* with every secret replaced by ``[secret NAME]`` (*count*: add them to :attr:`count`)."""
        if self._text is None:
            return text
        return self._text.sub(self._counted if count else self._label, text)

    def data(self, value: Any) -> Any:
        """*value* (str, list, dict, bytes, nested) with every string redacted; containers are changed in place."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            for key in list(value):
                value[key] = self.data(value[key])
            return value
        if isinstance(value, list):
            value[:] = [self.data(item) for item in value]
            return value
        if isinstance(value, (bytes, bytearray, memoryview)) and self._text is not None:
            return self._bytes.sub(self._counted_bytes, bytes(value))
        return value

    def unsafe_tail(self, text: str) -> int:
        """How many of *text*'s last characters could begin a secret the next chunk completes (0: none)."""
        for length in range(min(self._longest - 1, len(text)), 0, -1):
            if text[-length:] in self._prefixes:
                return length
        return 0

    def _label(self, match: re.Match[str]) -> str:
        return f"[secret {self._names[match.group(0)]}]"

    def _counted(self, match: re.Match[str]) -> str:
        self.count += 1
        return self._label(match)

    def _counted_bytes(self, match: re.Match[bytes]) -> bytes:
        self.count += 1
        return f"[secret {self._names[match.group(0).decode('utf-8', 'surrogatepass')]}]".encode()
