"""Which notebook is written where: inputs paired with outputs, one job each (or one per grid entry).

Checked before anything runs: an ``-o`` that is not a notebook file, a text
notebook's default output that would overwrite an unrelated ``.ipynb``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from nbrun.notebook.text import executed_target, is_output_of, is_text_notebook_name
from nbrun.options import ExecuteOptions, FileOptions
from nbrun.runners.batch import BatchJob
from nbrun.storage.locations import Where, common_folder, where_name

from ..errors import CliError


@dataclass(frozen=True)
class BatchItem:
    source: Where
    target: Where
    relative_folder: Path = Path()  # the input's folder relative to the batch's common folder
    output_root: Where | None = None  # --output-dir: the target must stay inside it


def plan_batch(
    notebooks: list[Where], *, output: Where | None, output_dir: Where | None, root: Where | None = None
) -> list[BatchItem]:
    """Pair each input with its output (in place by default; --output-dir mirrors folders from *root*)."""
    if output is not None:
        refuse_unusable_target(output)  # the executed notebook is .ipynb JSON: -o names a .ipynb file
        return [BatchItem(notebooks[0], output)]
    base = root if root is not None else common_folder(notebooks)  # paths or URLs
    items = []
    for path in notebooks:
        try:
            relative = path.resolve().relative_to(base)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            relative = Path(path.name)
        target = executed_target(path) if output_dir is None else output_dir / executed_target(relative)  # text: .ipynb
        if output_dir is None:
            refuse_unrelated_twin(path, target)
        items.append(BatchItem(path, target, relative.parent, output_dir))
    return items


def make_jobs(items: list[BatchItem], options: ExecuteOptions, file_options: FileOptions) -> list[BatchJob]:
    jobs = []
    for item in items:
        job_files = (
            file_options if item.output_root is None else file_options.with_changes(output_root=item.output_root)
        )
        if file_options.extract_images is not None and item.relative_folder.parts:  # kept inside the folder given
            job_files = job_files.with_changes(
                extract_images=file_options.extract_images / item.relative_folder,
                images_root=file_options.extract_images,
            )
        jobs.append(BatchJob(item.source, item.target, options, dict(options.parameters or {}), job_files))
    return jobs


def grid_jobs(
    source: Where, template: Where, options: ExecuteOptions, file_options: FileOptions, grid: list[dict[str, Any]]
) -> list[BatchJob]:
    """One job per grid entry; each entry overrides the common -p/-y/-f/-r values."""
    from nbrun.notebook.files import read_from

    from .params import render_output

    notebook = functools.cache(lambda: read_from(source))  # the declared defaults, read once for every entry
    jobs, targets = [], set()
    for entry in grid:
        parameters = {**(options.parameters or {}), **entry}
        target = render_output(template, parameters, notebook)
        if target in targets:
            raise click.UsageError(f"two grid entries write the same output {target}; put a varying parameter in -o")
        targets.add(target)
        jobs.append(BatchJob(source, target, options.with_changes(parameters=parameters), parameters, file_options))
    return jobs


def refuse_unrelated_twin(source: Where, target: Where) -> None:
    """A text notebook's default output must not overwrite an unrelated ``.ipynb`` beside it (exit 2)."""
    if (
        isinstance(source, Path)
        and isinstance(target, Path)
        and target != source
        and target.exists()
        and not is_output_of(target, source)
    ):
        raise CliError(
            f"{source}: would overwrite {target.name}, which is not its output (no nbrun "
            "record, no jupytext pairing); choose where the result goes with -o or --output-dir",
            2,
        )


def refuse_unusable_target(output: Where) -> None:
    """-o must name a .ipynb file (or '-'): notebook JSON in a .py, .html or extensionless file is a usage error."""
    if str(output) == "-" or str(where_name(output)).lower().endswith(".ipynb"):
        return
    if isinstance(output, Path) and output.is_dir():
        return  # the check stage says it is a directory (exit 5), as for any unwritable target
    if is_text_notebook_name(output):
        raise click.UsageError(f"-o {output}: the executed notebook is written as .ipynb JSON; name a .ipynb file")
    hint = (
        "; --html writes an HTML page beside the notebook"
        if str(where_name(output)).lower().endswith((".html", ".htm"))
        else ""
    )
    raise click.UsageError(
        f"-o {output}: the executed notebook is .ipynb JSON: name a .ipynb file (or '-' for stdout){hint}"
    )
