"""The stylesheet of the run page (inlined: the page makes no network requests)."""

CSS = """
:root { --ok: #1b7f3b; --bad: #c62828; --warn: #b26a00; --muted: #5f6368; --line: #dadce0; --bg-soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #202124; background: #fff; }
header.run { padding: 16px 20px; border-bottom: 4px solid var(--ok); background: #f1f8f3; }
header.run.failed { border-bottom-color: var(--bad); background: #fdf1f0; }
h1 { margin: 0 0 4px; font-size: 20px; }
h2 { font-size: 17px; margin: 24px 0 8px; }
.verdict { margin: 0 0 10px; font-size: 17px; font-weight: 600; }
header.run.failed .verdict { color: var(--bad); }
header.run:not(.failed) .verdict { color: var(--ok); }
dl.facts { display: flex; flex-wrap: wrap; gap: 4px 20px; margin: 0 0 10px; font-size: 14px; }
dl.facts div { display: flex; gap: 6px; min-width: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.totals { list-style: none; display: flex; flex-wrap: wrap; gap: 6px; padding: 0; margin: 0; }
main { padding: 0 20px 32px; max-width: 1200px; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg-soft); position: sticky; top: 0; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.name { overflow-wrap: break-word; min-width: 12em; }
.note { overflow-wrap: anywhere; color: var(--muted); }
tr.bad .note { color: var(--bad); }
div.note.phone { display: none; font-size: 12px; margin-top: 2px; }
.sub { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #fff; background: var(--muted); white-space: nowrap; }
.badge.ok { background: var(--ok); }
.badge.bad { background: var(--bad); }
.badge.warn { background: var(--warn); }
.mark { display: inline-block; padding: 0 6px; margin: 0 4px 2px 0; border: 1px solid var(--line); border-radius: 4px;
  font-size: 12px; color: var(--muted); white-space: nowrap; }
details { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; background: #fff; }
details > summary { cursor: pointer; padding: 8px 12px; overflow-wrap: anywhere; }
details[open] > summary { border-bottom: 1px solid var(--line); }
details.failure { border-left: 5px solid var(--bad); }
#details > details { content-visibility: auto; contain-intrinsic-size: auto 44px; }
.body { padding: 8px 12px 12px; }
.body h3 { font-size: 14px; margin: 12px 0 4px; color: var(--muted); }
pre { margin: 0; padding: 8px 10px; background: var(--bg-soft); border-radius: 4px; overflow-x: auto;
  font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre; }
pre.traceback { background: #fff5f5; }
.message { color: var(--bad); overflow-wrap: anywhere; font-weight: 600; }
.bars { display: flex; align-items: flex-end; gap: 1px; height: 64px; padding: 2px; border-bottom: 1px solid var(--line);
  max-width: 100%; overflow: hidden; }
.bars span, .bar-labels span { flex: 1 1 0; min-width: 2px; max-width: 28px; background: #4a7fcf; }
.bar-labels { display: flex; gap: 1px; padding: 0 2px; max-width: 100%; overflow: hidden; }
.bar-labels span { background: none; font-size: 10px; color: var(--muted); text-align: center; overflow: hidden; }
.bars span.bad { background: var(--bad); }
.bars span.idle { background: var(--line); }
.bars-caption { font-size: 12px; color: var(--muted); margin-top: 2px; }
.thumbs { display: flex; flex-wrap: wrap; gap: 8px; }
.thumbs figure { margin: 0; padding: 4px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
.thumbs img { display: block; max-width: 240px; max-height: 160px; height: auto; width: auto; }
.thumbs figcaption { font-size: 11px; color: var(--muted); text-align: center; }
a { color: #1a56b0; }
.ansi-black { color: #3e424d; } .ansi-red { color: #c62828; } .ansi-green { color: #1b7f3b; } .ansi-yellow { color: #9a6700; }
.ansi-blue { color: #1f5bbf; } .ansi-magenta { color: #a1279c; } .ansi-cyan { color: #0b7a8a; } .ansi-white { color: #6b6b6b; }
.ansi-bright-black { color: #5f6368; } .ansi-bright-red { color: #e53935; } .ansi-bright-green { color: #2e9d4f; }
.ansi-bright-yellow { color: #b08900; } .ansi-bright-blue { color: #3b7be0; } .ansi-bright-magenta { color: #c040c0; }
.ansi-bright-cyan { color: #1495a8; } .ansi-bright-white { color: #8a8a8a; }
.ansi-bg-black { background: #3e424d; } .ansi-bg-red { background: #fbd5d5; } .ansi-bg-green { background: #d4f0dc; }
.ansi-bg-yellow { background: #fdf0c4; } .ansi-bg-blue { background: #d6e4fa; } .ansi-bg-magenta { background: #f3d6f2; }
.ansi-bg-cyan { background: #d2f1f5; } .ansi-bg-white { background: #f0f0f0; }
.ansi-bold { font-weight: 700; }
footer { padding: 12px 20px; color: var(--muted); font-size: 12px; }
@media (max-width: 640px) {
  body { font-size: 14px; }
  header.run, main { padding-left: 10px; padding-right: 10px; }
  th.opt, td.opt, .wide { display: none; }
  div.note.phone { display: block; }
  dl.facts { gap: 2px 14px; font-size: 13px; }
  .thumbs img { max-width: 36vw; }
}
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  th { position: static; }
  details::details-content { content-visibility: visible; display: block; }
  details > summary { list-style: none; font-weight: 600; }
  details, tr, figure { break-inside: avoid; }
  pre { white-space: pre-wrap; word-break: break-word; }
  a { color: inherit; text-decoration: none; }
}
"""
