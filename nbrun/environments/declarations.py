"""What a notebook declares about its own environment: dependencies, Python version, a lock.

Three forms are read, as the tools that write them do:

* a PEP 723 ``# /// script`` block in a code cell (juv puts it in the first
  one): TOML with ``dependencies`` and ``requires-python``;
* ``metadata.uv`` (nteract's runtimed): the same two keys as JSON, read only
  when no cell holds a script block (the block is what juv edits);
* ``metadata["uv.lock"]`` (``juv lock``): the text of a uv script lock, which
  the build installs exactly instead of resolving the declarations again.

Reading never touches the network or the disk; a declaration that cannot be
read is an :class:`~nbrun.errors.EnvironmentDeclarationError` (one line).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nbformat import NotebookNode

from ..errors import EnvironmentDeclarationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the env extra brings tomli on 3.10
    import tomli as tomllib

# PEP 723's reference expression: a block opens with "# /// TYPE", holds "#" or "# ..." lines, closes with "# ///".
_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")
LOCK_METADATA = "uv.lock"
UV_METADATA = "uv"


@dataclass(frozen=True)
class Declarations:
    """A notebook's environment as it declares it.

    ``where`` says where it was read (``cell 1's script block``,
    ``metadata.uv``); ``lock`` is the uv lock's text when the notebook has
    one; ``settings`` is the block's ``[tool]`` table (uv's own settings such
    as ``exclude-newer``), kept so a change in it makes another environment.
    """

    dependencies: tuple[str, ...]
    requires_python: str | None
    where: str
    lock: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    def script_block(self) -> str:
        """The declarations as a PEP 723 block (what a uv script lock is read against)."""
        lines = ["# /// script"]
        if self.requires_python:
            lines.append(f"# requires-python = {_toml_string(self.requires_python)}")
        lines.append("# dependencies = [")
        lines.extend(f"#     {_toml_string(dependency)}," for dependency in self.dependencies)
        lines += ["# ]", "# ///", ""]
        return "\n".join(lines)

    def locked_packages(self) -> list[str]:
        """``name==version`` of every package the lock holds ([] without a lock)."""
        if self.lock is None:
            return []
        packages = tomllib.loads(self.lock).get("package", [])
        return [f"{package.get('name')}=={package.get('version')}" for package in packages if isinstance(package, dict)]

    def describe(self) -> str:
        """One line: the dependencies, the Python version and the lock."""
        parts = [", ".join(self.dependencies) or "no dependencies"]
        if self.requires_python:
            parts.append(f"python {self.requires_python}")
        if self.lock is not None:
            parts.append(f"locked ({len(self.locked_packages())} packages)")
        return "; ".join(parts)


def read_declarations(nb: NotebookNode) -> Declarations | None:
    """The environment *nb* declares, or None when it declares none (EnvironmentDeclarationError)."""
    metadata = nb.get("metadata", {})
    lock = _lock_text(metadata)
    found = _script_blocks(nb)
    if len(found) > 1:
        cells = " and ".join(f"cell {index + 1}" for index, _ in found[:2])
        raise EnvironmentDeclarationError(f"two PEP 723 script blocks ({cells}); keep one")
    if found:
        index, content = found[0]
        where = f"cell {index + 1}'s script block"
        try:
            table = tomllib.loads(content)
        except tomllib.TOMLDecodeError as exc:
            raise EnvironmentDeclarationError(f"{where} is not TOML: {_first_line(exc)}") from None
        return _declarations(table, where, lock)
    uv = metadata.get(UV_METADATA)
    if uv is not None:
        if not isinstance(uv, dict):
            raise EnvironmentDeclarationError("metadata.uv must be an object with dependencies and requires-python")
        return _declarations(uv, "metadata.uv", lock)
    if lock is not None:
        raise EnvironmentDeclarationError(f"metadata[{LOCK_METADATA!r}] is there but no dependencies are declared")
    return None


def _script_blocks(nb: NotebookNode) -> list[tuple[int, str]]:
    """(code cell index, TOML text) of every ``script`` block, in cell order."""
    found: list[tuple[int, str]] = []
    code_cells = [cell for cell in nb.get("cells", []) if cell.get("cell_type") == "code"]
    for index, cell in enumerate(code_cells):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        if not text.endswith("\n"):
            text += "\n"  # the expression wants a line end after the closing "# ///"
        for match in _BLOCK.finditer(text):
            if match.group("type") == "script":
                lines = match.group("content").splitlines()
                found.append((index, "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in lines)))
    return found


def _declarations(table: Mapping[str, Any], where: str, lock: str | None) -> Declarations:
    dependencies = table.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(item, str) for item in dependencies):
        raise EnvironmentDeclarationError(f"{where}: dependencies must be a list of strings")
    for dependency in dependencies:
        _check_requirement(dependency, where)
    requires_python = table.get("requires-python")
    if requires_python is not None:
        if not isinstance(requires_python, str):
            raise EnvironmentDeclarationError(f"{where}: requires-python must be a string such as '>=3.10'")
        _check_specifier(requires_python, where)
    settings = table.get("tool", {})
    return Declarations(
        tuple(dependencies), requires_python, where, lock, settings if isinstance(settings, dict) else {}
    )


def _check_requirement(text: str, where: str) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement as exc:
        raise EnvironmentDeclarationError(f"{where}: {text!r} is not a requirement ({_first_line(exc)})") from None


def _check_specifier(text: str, where: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        raise EnvironmentDeclarationError(f"{where}: requires-python {text!r} is not a version specifier") from None


def _lock_text(metadata: Mapping[str, Any]) -> str | None:
    lock = metadata.get(LOCK_METADATA)
    if lock is None:
        return None
    if not isinstance(lock, str):
        raise EnvironmentDeclarationError(f"metadata[{LOCK_METADATA!r}] must be the text of a uv lock")
    try:
        tomllib.loads(lock)
    except tomllib.TOMLDecodeError as exc:
        raise EnvironmentDeclarationError(f"metadata[{LOCK_METADATA!r}] is not TOML: {_first_line(exc)}") from None
    return lock


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
