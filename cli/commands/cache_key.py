"""``nbrun cache key``: a notebook's cache key, its parts, and why the stored run would or would not replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import exit_codes
from ..errors import CliError
from ..inputs.cache_flags import cache_dir_option, ttl_option
from ..inputs.env_flags import env_run_options
from ..inputs.execution_flags import execute_options, execution_flags, parameters_of

if TYPE_CHECKING:
    from nbrun.cache import CacheStore
    from nbrun.options import EnvironmentSettings

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("key", context_settings=CONTEXT)
@click.argument("notebook", type=click.Path(path_type=Path, dir_okay=False))
@cache_dir_option(
    "Also say whether the cache holds this key, and which parts differ from this notebook's last stored run."
)
@click.option("--cache-input", "cache_inputs", multiple=True, metavar="PATTERN", help="As for nbrun run.")
@ttl_option
@execution_flags
@env_run_options
@click.option("--json", "as_json", is_flag=True, help="Print the key and all its parts as JSON.")
@click.option(
    "--explain",
    is_flag=True,
    help="List every part in full and, with --cache, what the stored run read, wrote and reached, and whether "
    "it would be replayed.",
)
def key_command(
    notebook: Path,
    cache_dir: Path | None,
    cache_inputs: tuple[str, ...],
    cache_ttl: float | None,
    as_json: bool,
    explain: bool,
    environments: EnvironmentSettings | None,
    **execution: Any,
) -> None:
    """Print NOTEBOOK's cache key and its parts (pass the run's options to get the run's key)."""
    from nbrun.cache import CacheSettings, CacheStore, notebook_key
    from nbrun.cache.runs import notebook_ttl
    from nbrun.environments.stages import with_environment
    from nbrun.errors import NbrunError
    from nbrun.notebook.files import read_notebook

    try:
        options = execute_options(execution, parameters=parameters_of(execution), cwd=notebook.resolve().parent)
        settings = CacheSettings(cache_dir or Path("."), extra_inputs=cache_inputs, ttl=cache_ttl)
        nb = read_notebook(notebook)
        options = with_environment(nb, options, environments)  # as the run names it (its digest is in the key)
        key = notebook_key(nb, notebook, options, settings)
    except (NbrunError, ValueError) as exc:
        code = exc.status.exit_code if isinstance(exc, NbrunError) else exit_codes.USAGE
        raise CliError(str(exc), code) from None
    ttl, ttl_warning = notebook_ttl(nb, settings)
    for warning in [*key.warnings, *([ttl_warning] if ttl_warning else [])]:
        click.echo(f"nbrun: warning: {warning}", err=True)
    store = CacheStore(cache_dir) if cache_dir is not None else None
    if as_json:
        click.echo(
            json.dumps(
                {"key": key.digest, "part_digests": key.part_digests, "parts": key.parts},
                indent=2,
                ensure_ascii=False,
                default=str,
            )
        )
        return
    click.echo(f"key {key.digest}")
    for name, digest in key.part_digests.items():
        click.echo(f"  {name:<11} {digest[:12]}  {_describe_part(name, key.parts[name])}")
        if explain:
            for line in explain_part(name, key.parts[name]):
                click.echo(f"      {line}")
    if store is not None:
        _explain_against_store(store, key.digest, key.part_digests, notebook, ttl, explain)
    elif explain:
        click.echo("recorded: give --cache DIR to see what the stored run read, wrote and reached")


def _explain_against_store(
    store: CacheStore, digest: str, parts: dict[str, str], notebook: Path, ttl: float | None, explain: bool
) -> None:
    """Say whether the key is stored; if not, which parts differ from the notebook's last stored run."""
    stored = store.info(digest)
    if stored is not None:
        header = stored.header
        click.echo(f"stored: yes ({header.get('status', '?')}, {header.get('stored', '?')}) in {stored.path}")
        problem = not_replayable(store, digest, notebook.resolve().parent, ttl)
        if explain:
            _explain_reads(store, digest, notebook.resolve().parent)
        if problem:
            click.echo(f"  but {problem}; the next run runs the notebook")
        elif explain:
            click.echo("replay: yes (nothing the run read, wrote or reached changed)")
        return
    source = str(notebook.resolve())
    previous = [entry for entry in store.entries() if entry.header.get("source") == source]
    if not previous:
        click.echo(f"stored: no (no run of {notebook} in {store.root})")
        return
    last = previous[-1]
    last_parts = last.header.get("parts")
    changed = [
        name for name, value in parts.items() if not isinstance(last_parts, dict) or last_parts.get(name) != value
    ]
    click.echo(
        f"stored: no; differs from the last stored run of {notebook} ({last.key[:12]}) in: {', '.join(changed) or '?'}"
    )


def not_replayable(store: CacheStore, digest: str, base: Path, ttl: float | None) -> str:
    """Why the stored run would not be replayed (its shape, or what it read, changed), or ""."""
    from nbrun.cache import CorruptEntryError
    from nbrun.cache.entry_shape import check_entry
    from nbrun.cache.runs import stale_reason

    try:
        stored = store.load(digest, touch=False)
        if stored is None:
            return ""
        check_entry(stored.record, stored.notebook, stored.reads)
    except (CorruptEntryError, ValueError) as exc:
        return f"it cannot be replayed: {exc}"
    reason = stale_reason(store, stored, base, ttl)
    return f"it is out of date: {reason}" if reason else ""


def _describe_part(name: str, value: Any) -> str:
    if name == "cells":
        return f"{len(value)} code cell{'s' if len(value) != 1 else ''}"
    if name == "kernel":
        return f"{value['name']} ({value['language']} {value['version']}, {value['interpreter']})".replace("  ", " ")
    if name == "packages":
        return f"{len(value)} installed distributions"
    if name == "parameters":
        return "none" if value is None else json.dumps(value, ensure_ascii=False, default=str)
    if name == "options":
        from nbformat import NotebookNode

        from nbrun.cache.key import result_options
        from nbrun.options import ExecuteOptions

        defaults = result_options(NotebookNode(), ExecuteOptions(), Path.cwd())
        shown = {k: v for k, v in value.items() if defaults.get(k) != v}
        return ", ".join(f"{k}={v}" for k, v in shown.items()) or "defaults"
    if name == "environment":
        return f"{value['digest']} ({', '.join(value['dependencies']) or 'no dependencies'})"
    if name == "inputs":
        return "none declared" if not value else "; ".join(f"{k} {v[:8]}" for k, v in value.items())
    return ""


def explain_part(name: str, value: Any) -> list[str]:
    """The lines ``--explain`` adds under a key part: each code cell, input and option in full."""
    if name == "cells" and isinstance(value, list):
        return [
            f"cell {number}: {json.dumps(cell, ensure_ascii=False, default=str)[:100]}"
            for number, cell in enumerate(value, 1)
        ]
    if name == "inputs" and isinstance(value, dict):
        return [f"{path}  sha256 {digest}" for path, digest in value.items()]
    if name in ("options", "kernel", "parameters") and isinstance(value, dict):
        return [
            f"{option} = {json.dumps(setting, ensure_ascii=False, default=str)}" for option, setting in value.items()
        ]
    return []


def _explain_reads(store: CacheStore, digest: str, base: Path) -> None:
    """What the stored run read, wrote, listed and reached, each with its state now."""
    from nbrun.cache import CorruptEntryError
    from nbrun.cache.explain import describe_reads

    try:
        stored = store.load(digest, touch=False)
    except CorruptEntryError:
        return
    if stored is not None:
        for line in describe_reads(stored.reads, base, store.digest_key()):
            click.echo(line)
