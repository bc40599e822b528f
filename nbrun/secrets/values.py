"""A run's secrets: names shown everywhere, values only in the kernel's environment.

A value is held by :class:`Secret`, whose ``repr`` (and so every options
object's) shows the name alone. :func:`encoded_forms` lists the texts that
reveal a value (as written, escaped, URL-encoded, hex, base64 at any
alignment), which :mod:`nbrun.secrets.redaction` replaces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from ..errors import SecretError

MIN_LENGTH = 6  # a shorter value would also match ordinary text: redacting it would mangle outputs
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Secret:
    """One secret: the environment variable the kernel reads it from, and its value.

    *keyed*: the value is part of the cache key as a keyed digest (a changed
    secret re-runs); ``--redact-env`` matches are not (nbrun's environment
    already reaches the kernel, and the recorded reads track the variables read).
    """

    name: str
    value: str = field(repr=False)
    keyed: bool = True

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise SecretError(f"secret name {self.name!r} is not an environment variable name")
        if len(self.value) < MIN_LENGTH:
            raise SecretError(
                f"secret {self.name}: its value is shorter than {MIN_LENGTH} characters, refused "
                "(redacting so short a text would mangle ordinary output)"
            )


class Secrets:
    """The secrets of a run, by name (later ones replace earlier ones of the same name)."""

    __slots__ = ("_by_name",)

    def __init__(self, secrets: Iterable[Secret] | Mapping[str, str] = ()) -> None:
        items = [Secret(name, value) for name, value in secrets.items()] if isinstance(secrets, Mapping) else secrets
        self._by_name: dict[str, Secret] = {secret.name: secret for secret in items}

    def __repr__(self) -> str:
        return f"Secrets({', '.join(self._by_name)})"

    def __bool__(self) -> bool:
        return bool(self._by_name)

    def __iter__(self) -> Iterator[Secret]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secrets) and self._by_name == other._by_name

    def __hash__(self) -> int:
        return hash(tuple(self._by_name))

    def __reduce__(self) -> tuple[type, tuple[tuple[Secret, ...]]]:
        return (type(self), (tuple(self._by_name.values()),))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def with_secrets(self, more: Iterable[Secret]) -> Secrets:
        """These secrets and *more* (which win on a shared name)."""
        return Secrets([*self._by_name.values(), *more])

    def environment(self) -> dict[str, str]:
        """What the kernel's environment gets: ``{NAME: value}``."""
        return {secret.name: secret.value for secret in self._by_name.values()}

    def keyed_digests(self, digest_key: bytes) -> dict[str, str]:
        """``{NAME: HMAC-SHA256(digest_key, value)}`` of the keyed secrets: changes with a value, reveals nothing."""
        return {
            secret.name: hmac.new(digest_key, secret.value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
            for secret in self._by_name.values()
            if secret.keyed
        }


def encoded_forms(value: str) -> list[str]:
    """The texts that reveal *value*, longest first (the redaction patterns).

    As written; escaped as a Python or JSON string literal; URL-encoded; hex
    (either case); base64 and URL-safe base64, whole and at each of the three
    alignments it can have inside a longer encoded text (the characters
    that depend on *value* alone).
    """
    raw = value.encode("utf-8", "surrogatepass")
    forms = {
        value,
        repr(value)[1:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        raw.hex(),
        raw.hex().upper(),
    }
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms.update({whole, whole.rstrip("=")})
        for offset in range(3):  # value preceded by `offset` bytes: only whole 6-bit groups of its own bits
            encoded = encode(b"\0" * offset + raw).decode("ascii")
            first, end = -(-8 * offset // 6), (8 * (offset + len(raw))) // 6
            forms.add(encoded[first:end])
    return sorted((form for form in forms if len(form) >= MIN_LENGTH), key=lambda form: (-len(form), form))
