"""Sanitizers: text rewritten on both sides before comparing.

nbval's sanitizer files are read unchanged: any text (INI section headers
included) where a line ``regex: PATTERN`` is directly followed by a line
``replace: REPLACEMENT``; each pair is applied with ``re.sub`` in file order.
A later pair with the same pattern replaces the earlier one, as in nbval.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import SanitizerFileError

_PAIR = re.compile(r"^regex: (.*)$\n^replace: (.*)$", re.MULTILINE)

# Built-ins, each switchable off by name.
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{8,16}\b")
# ipykernel compiles each cell to <tempdir>/ipykernel_<pid>/<hash>.py; warnings and
# inspect output print that path, which changes with every kernel.
_KERNEL_FILE = re.compile(r"ipykernel_\d+[/\\]\d+\.py")
_PATH_END = frozenset(" \t\r\n\"'<>()[]{},;=")


def _kernel_paths(text: str) -> str:
    """Each kernel cell file path (the folder before ``ipykernel_N/M.py`` included) becomes ``<kernel-cell>.py``."""
    if "ipykernel_" not in text:
        return text
    pieces, done = [], 0
    for match in _KERNEL_FILE.finditer(text):
        start = max(done, 1 + max(text.rfind(stop, done, match.start()) for stop in _PATH_END))
        pieces += [text[done:start], "<kernel-cell>.py"]
        done = match.end()
    return "".join(pieces) + text[done:]


# tempfile.mkdtemp()/mkstemp() names under the temporary folder: tmp + 8 random characters.
_TEMP_NAME = re.compile(re.escape(tempfile.gettempdir().rstrip("/\\")) + r"[/\\]tmp[a-z0-9_]{8}(?![a-z0-9_])")


def _kernel_and_temp_paths(text: str) -> str:
    text = _kernel_paths(text)
    return _TEMP_NAME.sub("<tempfile>", text) if "tmp" in text else text


BUILTINS: dict[str, Callable[[str], str]] = {
    "addresses": lambda text: _ADDRESS.sub("0x<address>", text),
    "kernel-paths": _kernel_and_temp_paths,
}


def read_sanitizer_file(path: Path | str) -> tuple[tuple[str, str], ...]:
    """The ``(regex, replacement)`` pairs of an nbval sanitizer file, checked to compile."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SanitizerFileError(
            f"{path}: cannot read sanitizer file: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    return parse_sanitizer_text(text, str(path))


def parse_sanitizer_text(text: str, origin: str = "sanitizer file") -> tuple[tuple[str, str], ...]:
    pairs: dict[str, str] = {}
    for pattern, replacement in _PAIR.findall(text.replace("\r\n", "\n")):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SanitizerFileError(f"{origin}: bad regex {pattern!r}: {exc}") from None
        pairs[pattern] = replacement
    if not pairs and text.strip():
        raise SanitizerFileError(f"{origin}: no 'regex:' line directly followed by a 'replace:' line")
    return tuple(pairs.items())


class Sanitizer:
    """Applies the file patterns, then the built-ins that are on, to a text."""

    def __init__(self, patterns: Iterable[tuple[str, str]], builtins: Iterable[str]) -> None:
        self._patterns = [(re.compile(p), r) for p, r in patterns]
        self._builtins = [BUILTINS[name] for name in builtins]

    def __call__(self, text: str) -> str:
        for pattern, replacement in self._patterns:
            try:
                text = pattern.sub(replacement, text)
            except (re.error, IndexError):  # a bad group reference in the replacement
                text = pattern.sub(lambda _m, r=replacement: r, text)  # type: ignore[misc]
        for builtin in self._builtins:
            text = builtin(text)
        return text
