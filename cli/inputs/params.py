"""Parameters from the command line: -f, -y, -p, -r, --params-grid and output templates."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from nbformat import NotebookNode

from nbrun.storage.locations import Where

from .. import exit_codes
from ..errors import CliError

MAX_VALUES = 1_000_000  # values a parameters file or -y text may hold, an alias counted each time it is used
MAX_TEXT = 16 * 1024 * 1024  # characters of text, likewise
MAX_DEPTH = 100  # nesting of lists and mappings


class _TooLarge(Exception):
    """A YAML document past the limits above (an alias bomb, or nesting deep enough to exhaust the stack)."""


@functools.cache
def _yaml_loader() -> type:
    """A safe YAML loader that keeps dates as the strings they were written as (like papermill); built once.

    It measures the document as it is composed, each alias as the whole value
    it stands for, and stops at the first limit passed: a few hundred bytes of
    aliases must not expand into gigabytes once written into a notebook.
    """
    import yaml

    class NoDatesLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0
            self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, characters), aliases expanded

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):  # a node composed before, or an ancestor (checked by the parent)
                return super().compose_node(parent, index)
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise _TooLarge(f"nested deeper than {MAX_DEPTH} levels")
                node = super().compose_node(parent, index)
            finally:
                self._depth -= 1
            self._measure(node)
            return node

        def _measure(self, node: Any) -> None:
            if isinstance(node, yaml.ScalarNode):
                values, text = 1, len(node.value)
            else:
                children = (
                    [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else node.value
                )
                if any(id(child) not in self._sizes for child in children):
                    raise _TooLarge("an alias refers to a value that contains it")
                values = 1 + sum(self._sizes[id(child)][0] for child in children)
                text = sum(self._sizes[id(child)][1] for child in children)
            if values > MAX_VALUES:
                raise _TooLarge(f"more than {MAX_VALUES:,} values once aliases are expanded")
            if text > MAX_TEXT:
                raise _TooLarge(f"more than {MAX_TEXT // (1024 * 1024)} MiB of text once aliases are expanded")
            self._sizes[id(node)] = (values, text)

    NoDatesLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return NoDatesLoader


def load_yaml(text: str, where: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_yaml_loader())
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0]
        raise click.UsageError(f"{where}: not valid YAML/JSON ({problem})") from None
    except _TooLarge as exc:
        raise CliError(f"{where}: parameters refused: {exc}", exit_codes.USAGE) from None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise click.UsageError(f"{where}: parameters must be a mapping of names to values")
    return value


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{path}: cannot read parameters file ({exc})") from None


def collect_parameters(
    files: tuple[Path, ...],
    yaml_texts: tuple[str, ...],
    typed: tuple[tuple[str, str], ...],
    raw: tuple[tuple[str, str], ...],
) -> dict[str, Any] | None:
    """Merge the sources; later ones win: -f files, then -y, then -p, then -r (each in order given)."""
    from nbrun.notebook.parameters import parse_value

    if not (files or yaml_texts or typed or raw):
        return None
    merged: dict[str, Any] = {}
    for path in files:
        merged.update(_mapping(load_yaml(_read(path), str(path)), str(path)))
    for text in yaml_texts:
        merged.update(_mapping(load_yaml(text, "-y"), "-y"))
    for name, value in typed:
        merged[name] = parse_value(value)
    for name, value in raw:
        merged[name] = value
    return merged


def load_grid(path: Path) -> list[dict[str, Any]]:
    """--params-grid: a YAML list of parameter mappings."""
    grid = load_yaml(_read(path), str(path))
    if not isinstance(grid, list) or not grid:
        raise click.UsageError(f"{path}: a parameter grid must be a non-empty YAML list of mappings")
    return [_mapping(entry, f"{path} entry {index}") for index, entry in enumerate(grid)]


def render_output(
    template: Where, parameters: dict[str, Any], notebook: Callable[[], NotebookNode] | None = None
) -> Where:
    """Format ``-o`` with the parameters, then the declared defaults of *notebook* (read only if a field needs them)."""
    from nbrun.errors import NbrunError
    from nbrun.notebook.output_template import render_output as render

    try:
        return render(template, parameters, notebook)
    except NbrunError as exc:
        raise CliError(str(exc), exc.status.exit_code) from None
