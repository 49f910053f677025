"""One self-contained HTML page from a complement document, drawn from the table model.

A ``complement.report/1`` document gives one section per report section (its plots, its
tables, its definitions), or "not run: <reason>" for a skipped one, then the provenance; any
other complement document gives the page of its one section. Plots are inline PNG
(:mod:`complement.report.figures`), the CSS is inline, nothing is fetched from the network.
Every string is HTML-escaped, control characters first made visible.
"""

from __future__ import annotations

import html as htmllib
from collections.abc import Mapping
from typing import Any

from complement.report.figures import figure_png, section_figures
from complement.report.model import (
    SECTION_LEADS,
    SECTION_TITLES,
    Table,
    headline,
    is_not_run,
    kind_of,
    not_run_reason,
    provenance_tables,
    report_sections,
    section_tables,
    subtitle,
)
from complement.report.model.text import visible

__all__ = ["figure_png", "render_html", "table_html"]

_CSS = """
:root { color-scheme: light; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 0; background: #f6f7f9; color: #1d2330; line-height: 1.45; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; }
header.top { background: #1d2a44; color: #fff; padding: 22px 28px; }
header.top h1 { margin: 0 0 4px; font-size: 1.6rem; font-weight: 600; }
header.top p { margin: 0; opacity: 0.85; font-size: 0.92rem; }
nav { margin: 8px 0 0; font-size: 0.92rem; }
nav a { color: #cfe0ff; margin-right: 14px; text-decoration: none; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 8px; }
.card { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 10px 14px;
  min-width: 150px; }
.card .label { font-size: 0.8rem; color: #5b6475; text-transform: uppercase;
  letter-spacing: 0.03em; }
.card .value { font-size: 1.15rem; font-weight: 600; font-variant-numeric: tabular-nums; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 10px;
  padding: 6px 22px 18px; margin: 22px 0; }
section h2 { font-size: 1.25rem; margin: 14px 0 6px; }
section h2 small { font-weight: 400; color: #5b6475; }
section h3 { font-size: 1rem; margin: 16px 0 6px; color: #2d3648; }
.notrun { color: #8a5a00; background: #fff6e0; border: 1px solid #f0d9a0;
  border-radius: 6px; padding: 8px 12px; }
.figs { display: flex; flex-wrap: wrap; gap: 8px 18px; justify-content: center; }
figure { margin: 10px 0; text-align: center; flex: 1 1 380px; max-width: 100%; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.86rem; color: #5b6475; margin-top: 4px; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 4px 0 6px;
  font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e6e9ef; white-space: nowrap; }
th { text-align: left; background: #f0f2f6; font-weight: 600; }
td.num, th.num { text-align: right; }
tr.end td { border-bottom: 2px solid #c9ced8; }
tr:nth-child(even) td { background: #fafbfc; }
.scroll { overflow-x: auto; }
.tables { display: flex; flex-wrap: wrap; gap: 0 34px; align-items: flex-start; }
.tbl { flex: 0 1 auto; max-width: 100%; }
.tbl p.note { max-width: 760px; }
p.lead { margin: 0 0 8px; color: #394257; font-size: 0.94rem; }
p.note { font-size: 0.86rem; color: #5b6475; margin: 2px 0 4px; }
details { margin: 10px 0; font-size: 0.88rem; }
"""


def _esc(text: Any) -> str:
    """Text for HTML: control characters made visible, then every markup character escaped."""
    return htmllib.escape(visible(text), quote=True)


def _cls(numeric: bool) -> str:
    return ' class="num"' if numeric else ""


def table_html(table: Table) -> str:
    """One table with its title and notes (a table with no rows: title and notes only)."""
    notes = "".join(f'<p class="note">{_esc(note)}</p>' for note in table.notes)
    if not table.rows:
        return f'<div class="tbl"><h3>{_esc(table.title)}</h3>{notes}</div>'
    head = "".join(
        f"<th{_cls(table.is_numeric(j))}>{_esc(h)}</th>" for j, h in enumerate(table.headers)
    )
    ends = set(table.group_ends)
    body = "".join(
        ('<tr class="end">' if i in ends else "<tr>")
        + "".join(f"<td{_cls(table.is_numeric(j))}>{_esc(c)}</td>" for j, c in enumerate(row))
        + "</tr>"
        for i, row in enumerate(table.rows)
    )
    thead = f"<thead><tr>{head}</tr></thead>" if any(table.headers) else ""
    return (
        f'<div class="tbl"><h3>{_esc(table.title)}</h3>'
        f'<div class="scroll"><table>{thead}<tbody>{body}</tbody></table></div>{notes}</div>'
    )


def _definitions(sec: Mapping[str, Any]) -> str:
    definitions = sec.get("definitions")
    if not isinstance(definitions, Mapping):
        return ""
    rows = "".join(
        f"<tr><td><b>{_esc(k)}</b></td><td style='white-space:normal'>{_esc(v)}</td></tr>"
        for k, v in definitions.items()
        if isinstance(v, str)
    )
    return f"<details><summary>Definitions</summary><table>{rows}</table></details>" if rows else ""


def _section_html(name: str, sec: Any, figs: Mapping[str, Any]) -> str:
    parts = [f'<section id="{_esc(name)}"><h2>{_esc(SECTION_TITLES.get(name, name))} '
             f"<small>({_esc(name)})</small></h2>"]  # fmt: skip
    if name in SECTION_LEADS:
        parts.append(f'<p class="lead">{_esc(SECTION_LEADS[name])}</p>')
    if is_not_run(sec):
        parts.append(f'<p class="notrun">{_esc(not_run_reason(sec))}</p></section>')
        return "".join(parts)
    figures = section_figures(name, sec, figs)
    if figures:
        parts.append('<div class="figs">')
        parts += [
            f'<figure><img alt="{_esc(caption)}" src="{_esc(uri)}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>"
            for uri, caption in figures
        ]
        parts.append("</div>")
    parts.append('<div class="tables">')
    parts += [table_html(t) for t in section_tables(name, sec)]
    parts.append(f"</div>{_definitions(sec)}</section>")
    return "".join(parts)


def _provenance_html(doc: Mapping[str, Any]) -> str:
    tables = provenance_tables(doc)
    if not tables:
        return ""
    return (
        '<section id="provenance"><h2>Provenance</h2><div class="tables">'
        + "".join(table_html(t) for t in tables)
        + "</div></section>"
    )


def render_html(doc: Mapping[str, Any]) -> str:
    """The whole page as a string (a report, or any single command's document).

    Raises ValueError for a document whose schema is unknown.
    """
    kind = kind_of(doc)
    sections = report_sections(doc) if kind == "report" else [(kind, doc)]
    figs = doc.get("figures") if kind == "report" else None
    has_provenance = isinstance(doc.get("provenance"), Mapping)
    nav = "".join(f'<a href="#{_esc(n)}">{_esc(n)}</a>' for n, _ in sections)
    nav += '<a href="#provenance">provenance</a>' if has_provenance else ""
    cards = "".join(
        f'<div class="card"><div class="label">{_esc(label)}</div>'
        f'<div class="value">{_esc(value)}</div></div>'
        for label, value in (headline(doc) if kind == "report" else [])
    )
    body = "".join(
        _section_html(n, sec, figs if isinstance(figs, Mapping) else {}) for n, sec in sections
    )
    heading = "complement report" if kind == "report" else f"complement {kind}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(heading)}</title><style>{_CSS}</style></head><body>"
        f'<header class="top"><h1>{_esc(heading)}</h1><p>{_esc(subtitle(doc))}</p>'
        f"<nav>{nav}</nav></header><main>"
        f'<div class="cards">{cards}</div>{body}{_provenance_html(doc)}</main></body></html>\n'
    )
