"""One static HTML page for a whole run, rendered from the JSON run record.

The page is a single file: inline CSS, images as ``data:`` URIs, no script,
and a Content-Security-Policy that forbids any request and any script, so a
notebook's text cannot turn into markup (it is escaped) or fetch anything.
The table comes first; per-notebook details are collapsed ``<details>``, so
a run of hundreds of notebooks opens quickly.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import quote

from ..execution.cell_label import cell_label
from ..status import RunStatus
from ..storage.locations import Where, write_text
from ..units import format_size
from .ansi_html import ansi_to_html
from .run_page_style import CSS

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)
OPEN_FAILURES_UP_TO = 10
OPEN_DETAILS_UP_TO = 10
MAX_BAR_LABELS = 40
_BAD = {status.value for status in RunStatus if status.junit in ("failure", "error")}
_WARN = {status.value for status in RunStatus if status.junit == "skipped"}


def write_run_page(record: Mapping[str, Any], destination: Where) -> None:
    """Render *record* and write it whole to *destination*, a path or a URL (links relative to its folder)."""
    page_dir = destination.resolve().parent if isinstance(destination, Path) else Path.cwd()
    write_text(render_run_page(record, page_dir=page_dir), destination)


def render_run_page(record: Mapping[str, Any], *, page_dir: Path) -> str:
    """The page for *record* (a run record as ``--json`` writes it); links are made relative to *page_dir*."""
    links = _Links(Path(str(record.get("cwd") or os.getcwd())), page_dir)
    notebooks = [nb for nb in record.get("notebooks", []) if isinstance(nb, Mapping)]
    failed = [(number, nb) for number, nb in enumerate(notebooks, 1) if _kind(nb.get("status")) != "ok"]
    parts = [_head(record, notebooks, failed), "<main>", _table(notebooks, links)]
    if failed:
        parts.append(_failures(failed, links))
    parts.append(_details(notebooks, links))
    parts.append("</main>")
    parts.append(f"<footer>Rendered by nbrun {_e(record.get('nbrun_version', ''))} from the JSON run record.</footer>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _head(record: Mapping[str, Any], notebooks: list[Mapping[str, Any]], failed: list[Any]) -> str:
    total = len(notebooks)
    bad = sum(1 for _, nb in failed if _kind(nb.get("status")) == "bad")
    exit_code = record.get("exit_code", 0)
    problem = bool(exit_code) or bad > 0
    if bad:
        verdict = f"✘ {bad} of {total} notebook{_s(total)} failed"
    elif problem:
        verdict = f"✘ run ended with exit code {exit_code}"
    else:
        verdict = f"✔ all {total} notebook{_s(total)} ran"
    title = f"nbrun: {verdict[2:]} ({record.get('started', '')})"
    facts = [
        ("Started", _when(record.get("started"))),
        ("Duration", _seconds(record.get("duration"))),
        ("Host", record.get("host")),
        ("Folder", record.get("cwd")),
        ("Exit code", exit_code),
        ("nbrun", record.get("nbrun_version")),
    ]
    totals = "".join(
        f'<li><span class="badge {_kind(status)}">{_e(status)} {_e(count)}</span></li>'
        for status, count in sorted((record.get("totals") or {}).items())
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n"
        f'<header class="run{" failed" if problem else ""}"><h1>nbrun run report</h1>'
        f'<p class="verdict">{_e(verdict)}</p><dl class="facts">'
        + "".join(f"<div><dt>{name}</dt><dd>{_e(value)}</dd></div>" for name, value in facts if value not in (None, ""))
        + f'</dl><ul class="totals">{totals}</ul></header>'
    )


def _table(notebooks: list[Mapping[str, Any]], links: _Links) -> str:
    rows = []
    for number, nb in enumerate(notebooks, 1):
        status = str(nb.get("status", ""))
        kind = _kind(status)
        executed, code_cells = _cell_counts(nb)
        outputs = [links.anchor(nb.get("output"), "notebook")] if nb.get("output") else []
        if nb.get("html"):
            outputs.append(links.anchor(nb.get("html"), "HTML"))
        note = "".join(_marks(nb)) + _e(_note(nb))
        rows.append(
            f'<tr class="{kind}" id="row-{number}"><td class="num opt">{number}</td>'
            f'<td class="name"><a href="#{"nb" if kind in ("ok", "") else "fail"}-{number}">{links.name(nb.get("input"))}</a>'
            f'<div class="sub">{" · ".join(outputs)}</div><div class="note phone">{note}</div></td>'
            f'<td><span class="badge {kind}">{_e(status)}</span></td>'
            f'<td class="num">{_seconds(nb.get("duration"))}</td>'
            f'<td class="num opt">{_size(nb.get("peak_memory"))}</td>'
            f'<td class="num opt">{executed}/{code_cells}</td>'
            f'<td class="note wide">{note}</td></tr>'
        )
    return (
        f'<section id="notebooks"><h2>Notebooks ({len(notebooks)})</h2><div class="table-wrap"><table>'
        '<thead><tr><th class="num opt">#</th><th>Notebook</th><th>Status</th><th class="num">Time</th>'
        '<th class="num opt" title="the kernel\'s processes at their largest">Memory</th>'
        '<th class="num opt" title="cells run / code cells">Cells</th><th class="wide">Notes</th></tr></thead><tbody>'
        + "\n".join(rows)
        + "</tbody></table></div></section>"
    )


def _failures(failed: list[tuple[int, Mapping[str, Any]]], links: _Links) -> str:
    opened = " open" if len(failed) <= OPEN_FAILURES_UP_TO else ""
    sections = []
    for number, nb in failed:
        error = _mapping(nb.get("error"))
        failure = _mapping(nb.get("failure"))
        body = [f'<p class="message">{_e(nb.get("message") or nb.get("status"))}</p>']
        if error.get("cell") is not None:
            body.append(
                f"<h3>Source of {_e(_cell_name(nb, error.get('cell')))}</h3>"
                f'<pre class="source">{_e(failure.get("source", ""))}</pre>'
            )
        traceback = failure.get("traceback") or []
        if traceback:
            text = "\n".join(str(line) for line in traceback)
            body.append(f'<h3>Traceback</h3><pre class="traceback">{ansi_to_html(text)}</pre>')
        if nb.get("html"):
            at_cell = "#nbrun-failed-cell" if error.get("cell") is not None else ""
            body.append(
                f'<p><a href="{_e(links.href(str(nb.get("html"))) + at_cell)}">Open the notebook as HTML</a></p>'
            )
        sections.append(
            f'<details class="failure" id="fail-{number}"{opened}><summary><span class="badge bad">'
            f'{_e(nb.get("status"))}</span> {links.name(nb.get("input"))}</summary><div class="body">{"".join(body)}</div></details>'
        )
    return f'<section id="failures"><h2>Failures ({len(failed)})</h2>' + "\n".join(sections) + "</section>"


def _details(notebooks: list[Mapping[str, Any]], links: _Links) -> str:
    opened = " open" if len(notebooks) <= OPEN_DETAILS_UP_TO else ""
    sections = []
    for number, nb in enumerate(notebooks, 1):
        kind = _kind(nb.get("status"))
        body = [_facts(nb, links), _bars(nb), _thumbnails(nb, links)]
        sections.append(
            f'<details class="notebook" id="nb-{number}"{opened}><summary><span class="badge {kind}">{_e(nb.get("status"))}</span> '
            f'{links.name(nb.get("input"))} <span class="sub">{_seconds(nb.get("duration"))}</span></summary>'
            f'<div class="body">{"".join(body)}</div></details>'
        )
    return '<section id="details"><h2>Details</h2>' + "\n".join(sections) + "</section>"


def _facts(nb: Mapping[str, Any], links: _Links) -> str:
    items = [
        ("Output", links.anchor(nb.get("output"), links.name(nb.get("output")), raw=True) if nb.get("output") else "")
    ]
    for key, label in (("kernel", "Kernel"), ("kernel_restarts", "Kernel restarts"), ("exit_code", "Exit code")):
        if nb.get(key) not in (None, "", 0):
            items.append((label, _e(nb.get(key))))
    if nb.get("parameters"):
        items.append(
            ("Parameters", f"<code>{_e(json.dumps(nb.get('parameters'), ensure_ascii=False, default=str))}</code>")
        )
    values = _mapping(nb.get("values"))
    if values:  # nbrun.record / scrapbook's glue
        shown = ", ".join(
            f"<code>{_e(name)} = {_e(json.dumps(_mapping(item).get('value'), ensure_ascii=False))}</code>"
            for name, item in values.items()
        )
        items.append(("Values", shown))
    for verdict in nb.get("expectations") or []:
        if isinstance(verdict, Mapping) and not verdict.get("passed"):
            items.append(("Expectation", _e(verdict.get("message") or verdict.get("expect"))))
    if nb.get("message"):
        items.append(("Message", _e(nb.get("message"))))
    return (
        '<dl class="facts">'
        + "".join(f"<div><dt>{label}</dt><dd>{value}</dd></div>" for label, value in items if value)
        + "</dl>"
    )


def _bars(nb: Mapping[str, Any]) -> str:
    """The per-cell duration bars and, beside them, the per-cell peak memory bars."""
    return _cell_bars(nb, "duration", "Cell durations", "time", _seconds) + _cell_bars(
        nb, "peak_memory", "Cell peak memory", "peak memory", _size
    )


def _cell_bars(nb: Mapping[str, Any], key: str, heading: str, what: str, shown: Callable[[Any], str]) -> str:
    cells = [cell for cell in nb.get("cells") or [] if isinstance(cell, Mapping)]
    measured = [cell for cell in cells if _is_number(cell.get(key))]
    if not measured:
        return ""
    largest = max(float(cell[key]) for cell in measured) or 1.0
    bars, labels = [], []
    for cell in cells:
        index = cell.get("index")
        labels.append(f"<span>{_e(index + 1 if isinstance(index, int) else index)}</span>")  # cells counted from 1
        value = cell.get(key)
        status = str(cell.get("status", ""))
        count = cell.get("execution_count")
        label = (
            f"{cell_label(index, count if isinstance(count, int) else None)}: {status}"
            if isinstance(index, int)
            else f"cell {index}: {status}"
        )
        if _is_number(value):
            height = max(3.0, 100.0 * float(value) / largest)
            label += f", {shown(value)}"
            css = "bad" if status in _BAD else ""
        else:
            height, css = 3.0, "idle"
        bars.append(f'<span class="{css}" style="height:{height:.1f}%" title="{_e(label)}"></span>')
    top = max(measured, key=lambda cell: float(cell[key]))
    caption = (
        f"Per-cell {what}, {len(measured)} cell{_s(len(measured))} measured; largest: "
        f"{_e(_cell_name(nb, top.get('index')))}, {shown(top.get(key))}"
    )
    axis = f'<div class="bar-labels" aria-hidden="true">{"".join(labels)}</div>' if len(cells) <= MAX_BAR_LABELS else ""
    return (
        f'<h3>{heading}</h3><div class="bars" role="img" aria-label="{caption}">{"".join(bars)}</div>'
        f'{axis}<div class="bars-caption">{caption}</div>'
    )


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _size(value: Any) -> str:
    return format_size(int(value)) if _is_number(value) else ""


def _thumbnails(nb: Mapping[str, Any], links: _Links) -> str:
    figures = []
    for image in nb.get("images") or []:
        if not isinstance(image, Mapping) or not str(image.get("thumbnail", "")).startswith("data:image/"):
            continue
        caption = _cell_name(nb, image.get("cell"))
        img = f'<img src="{_e(image.get("thumbnail"))}" alt="{_e(caption)} image" loading="lazy" decoding="async">'
        if image.get("file"):
            img = links.anchor(image.get("file"), img, raw=True)
        figures.append(f"<figure>{img}<figcaption>{_e(caption)}</figcaption></figure>")
    if not figures:
        return ""
    return '<h3>Images</h3><div class="thumbs">' + "".join(figures) + "</div>"


def _cell_counts(nb: Mapping[str, Any]) -> tuple[int, int]:
    cells = [cell for cell in nb.get("cells") or [] if isinstance(cell, Mapping)]
    executed = sum(1 for cell in cells if cell.get("duration") is not None)
    return executed, len(cells)


def _marks(nb: Mapping[str, Any]) -> Iterable[str]:
    """Small labels: cache hits (when the record says so), skipped cells, restarts, parameters."""
    cache = nb.get("cache")
    if isinstance(cache, Mapping):
        cache = cache.get("status") or ("hit" if cache.get("hit") else None)
    if cache:
        yield f'<span class="mark">cache: {_e("hit" if cache is True else cache)}</span>'
    skipped = sum(1 for cell in nb.get("cells") or [] if isinstance(cell, Mapping) and cell.get("status") == "skipped")
    if skipped:
        yield f'<span class="mark">{skipped} cell{_s(skipped)} skipped</span>'
    images = len(nb.get("images") or [])
    if images:
        yield f'<span class="mark">{images} image{_s(images)}</span>'
    if nb.get("kernel_restarts"):
        yield f'<span class="mark">{_e(nb.get("kernel_restarts"))} restart(s)</span>'
    if nb.get("parameters"):
        yield '<span class="mark">parameters</span>'
    values = len(_mapping(nb.get("values")))
    if values:
        yield f'<span class="mark">{values} value{_s(values)}</span>'


def _cell_name(nb: Mapping[str, Any], index: Any) -> str:
    """``cell 3 (index 2, In [3])``, as every human-facing nbrun message names a cell (the JSON keeps the index)."""
    if not isinstance(index, int):
        return f"cell {index}"
    counts = [
        cell.get("execution_count")
        for cell in nb.get("cells") or []
        if isinstance(cell, Mapping) and cell.get("index") == index
    ]
    return cell_label(index, counts[0] if counts and isinstance(counts[0], int) else None)


def _note(nb: Mapping[str, Any]) -> str:
    error = nb.get("error")
    if isinstance(error, Mapping) and error.get("ename"):
        return f"{_cell_name(nb, error.get('cell'))}: {error.get('ename')}: {_first_line(error.get('evalue'))}"
    return _first_line(nb.get("message"))


def _first_line(value: Any) -> str:
    text = "" if value is None else str(value)
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 200 else line[:199] + "…"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _kind(status: Any) -> str:
    return "bad" if status in _BAD else "warn" if status in _WARN else "ok" if status == "ok" else ""


def _seconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return ""
    return f"{value:.2f} s" if value < 60 else f"{int(value // 60)} min {value % 60:.0f} s"


def _when(started: Any) -> str:
    """``2026-12-02T00:52:59.699627Z`` -> ``2026-12-02 00:52:59 UTC``."""
    text = "" if started is None else str(started)
    if len(text) >= 19 and text[10] == "T":
        return f"{text[:10]} {text[11:19]}" + (" UTC" if text.endswith(("Z", "+00:00")) else "")
    return text


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


class _Links:
    """Hrefs from the page to files the record names (paths relative to the run's folder)."""

    def __init__(self, run_dir: Path, page_dir: Path) -> None:
        self.run_dir = run_dir
        self.page_dir = page_dir

    def name(self, path: Any) -> str:
        """*path* for reading: relative to the run's folder when inside it, escaped, breakable after each '/'."""
        text = "" if path is None else str(path)
        if os.path.isabs(text):
            with contextlib.suppress(ValueError):
                text = Path(text).relative_to(self.run_dir).as_posix()
        return _e(text).replace("/", "/<wbr>")

    def anchor(self, path: Any, text: str, *, raw: bool = False) -> str:
        label = text if raw else _e(text)
        return f'<a href="{_e(self.href(str(path)))}">{label}</a>'

    def href(self, path: str) -> str:
        absolute = Path(path) if os.path.isabs(path) else self.run_dir / path
        try:
            relative = os.path.relpath(absolute, self.page_dir)
        except ValueError:  # another drive (Windows)
            return absolute.as_uri()
        return quote(Path(relative).as_posix(), safe="/")
