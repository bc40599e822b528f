"""ANSI SGR colour codes in kernel tracebacks rendered as escaped HTML spans."""

from __future__ import annotations

import html
import re

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_OTHER_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-ln-~]|\x1b[@-Z\\-_]")
_NAMES = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")


_ANY_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    """*text* without terminal escape sequences (the one ANSI stripper of nbrun and its front ends)."""
    return _ANY_ESCAPE.sub("", text)


def ansi_to_html(text: str) -> str:
    """Escape *text* for HTML and turn SGR colour/bold codes into ``<span>`` elements.

    Basic and bright colours become classes (``ansi-red``, ``ansi-bright-red``,
    ``ansi-bg-red``, ``ansi-bold``); 256-colour and true-colour codes become an
    inline ``color``. Other escape sequences are dropped. The result never
    contains markup taken from *text*.
    """
    parts: list[str] = []
    state = _Style()
    position = 0
    for match in _SGR.finditer(text):
        parts.append(state.wrap(_plain(text[position : match.start()])))
        state.apply([int(code) if code else 0 for code in match.group(1).split(";")])
        position = match.end()
    parts.append(state.wrap(_plain(text[position:])))
    return "".join(parts)


def _plain(text: str) -> str:
    return html.escape(_OTHER_ESCAPES.sub("", text), quote=True)


class _Style:
    """The SGR state: foreground, background, bold."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.fg: str | None = None
        self.bg: str | None = None
        self.bold = False

    def apply(self, codes: list[int]) -> None:
        index = 0
        while index < len(codes):
            code = codes[index]
            if code == 0:
                self.reset()
            elif code == 1:
                self.bold = True
            elif code == 22:
                self.bold = False
            elif 30 <= code <= 37:
                self.fg = f"class:ansi-{_NAMES[code - 30]}"
            elif 90 <= code <= 97:
                self.fg = f"class:ansi-bright-{_NAMES[code - 90]}"
            elif code == 39:
                self.fg = None
            elif 40 <= code <= 47:
                self.bg = f"class:ansi-bg-{_NAMES[code - 40]}"
            elif 100 <= code <= 107:
                self.bg = f"class:ansi-bg-bright-{_NAMES[code - 100]}"
            elif code == 49:
                self.bg = None
            elif code in (38, 48):
                colour, index = _extended(codes, index)
                if colour is not None:
                    if code == 38:
                        self.fg = f"style:{colour}"
                    else:
                        self.bg = f"style:{colour}"
                continue
            index += 1

    def wrap(self, escaped: str) -> str:
        if not escaped or (self.fg is None and self.bg is None and not self.bold):
            return escaped
        classes, styles = [], []
        for kind, prefix in ((self.fg, "color"), (self.bg, "background-color")):
            if kind is None:
                continue
            how, value = kind.split(":", 1)
            if how == "class":
                classes.append(value)
            else:
                styles.append(f"{prefix}:{value}")
        if self.bold:
            classes.append("ansi-bold")
        attributes = f' class="{" ".join(classes)}"' if classes else ""
        attributes += f' style="{";".join(styles)}"' if styles else ""
        return f"<span{attributes}>{escaped}</span>"


def _extended(codes: list[int], index: int) -> tuple[str | None, int]:
    """Read a ``38;5;n`` or ``38;2;r;g;b`` colour starting at *index*; return it and the next index."""
    if index + 2 < len(codes) and codes[index + 1] == 5:
        return _xterm(codes[index + 2]), index + 3
    if index + 1 < len(codes) and codes[index + 1] == 2 and index + 4 < len(codes):
        r, g, b = (max(0, min(255, value)) for value in codes[index + 2 : index + 5])
        return f"rgb({r},{g},{b})", index + 5
    return None, index + 1


def _xterm(number: int) -> str:
    """The RGB colour of xterm-256 colour *number*."""
    number = max(0, min(255, number))
    basic = [
        "0,0,0",
        "205,49,49",
        "13,188,121",
        "229,229,16",
        "36,114,200",
        "188,63,188",
        "17,168,205",
        "229,229,229",
        "102,102,102",
        "241,76,76",
        "35,209,139",
        "245,245,67",
        "59,142,234",
        "214,112,214",
        "41,184,219",
        "255,255,255",
    ]
    if number < 16:
        return f"rgb({basic[number]})"
    if number < 232:
        cube = number - 16
        levels = [0 if v == 0 else 55 + 40 * v for v in (cube // 36, (cube // 6) % 6, cube % 6)]
        return "rgb({},{},{})".format(*levels)
    grey = 8 + 10 * (number - 232)
    return f"rgb({grey},{grey},{grey})"
