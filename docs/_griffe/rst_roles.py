"""A griffe extension for the API pages: reST roles in docstrings become Markdown code.

nbrun's docstrings name other objects the Sphinx way (:func:`run_sync`,
:class:`~nbrun.status.RunStatus`); rendered as Markdown, the role would stay
visible. Each role becomes inline code with the name a reader would write:
``:meth:`with_changes``` → ``with_changes``, ``:class:`~nbrun.status.RunStatus``` → ``RunStatus``.
Loaded by mkdocstrings (mkdocs.yml: ``extensions``); the code is not changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|exc|obj|const|type):`(~?)([^`<]+?)(?:\s*<[^>]+>)?`")


def _replace(match: re.Match[str]) -> str:
    short, name = match.group(1), match.group(2).strip()
    return f"`{name.rsplit('.', 1)[-1] if short else name}`"


def plain_roles(text: str) -> str:
    """*text* with every reST cross-reference role replaced by inline code."""
    return ROLE.sub(_replace, text)


class RstRoles(griffe.Extension):
    """Rewrite the docstrings of every object the package defines (aliases are left to their targets)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None:
                obj.docstring.value = plain_roles(obj.docstring.value)
            stack.extend(member for member in obj.members.values() if not member.is_alias)
