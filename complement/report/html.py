"""One self-contained HTML page from a ``complement.report/1`` document.

Figures are drawn with matplotlib's Agg canvas (no pyplot, no global backend state) and
embedded as base64 PNG; the CSS is inline; nothing is fetched from the network. Sections that
did not run are shown as "not run: <reason>".
"""

from __future__ import annotations

import base64
import html as htmllib
import io
from collections.abc import Callable, Mapping
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from complement.report.build import SECTION_NAMES
from complement.report.summary import (
    SECTION_LEADS,
    SECTION_TITLES,
    TableData,
    _get,
    _headline_k,
    _ks,
    fmt,
    headline,
    section_tables,
)

__all__ = ["render_html", "figure_png"]

_BLUE, _ORANGE, _GREEN, _GREY, _PURPLE = "#3b6fb6", "#e08a2c", "#4a9a5b", "#8a8a8a", "#8464a8"

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
tr:nth-child(even) td { background: #fafbfc; }
.scroll { overflow-x: auto; }
.tables { display: flex; flex-wrap: wrap; gap: 0 34px; align-items: flex-start; }
.tbl { flex: 0 1 auto; max-width: 100%; }
.tbl p.note { max-width: 760px; }
p.lead { margin: 0 0 8px; color: #394257; font-size: 0.94rem; }
p.note { font-size: 0.86rem; color: #5b6475; margin: 2px 0 10px; }
details { margin: 10px 0; font-size: 0.88rem; }
pre { background: #f0f2f6; padding: 10px; border-radius: 6px; overflow-x: auto;
  font-size: 0.8rem; }
"""


def _esc(text: Any) -> str:
    return htmllib.escape(str(text), quote=True)


def figure_png(fig: Figure) -> str:
    """A figure as a ``data:image/png;base64,...`` URI (no timestamp, so deterministic)."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _new_figure(width: float = 7.6, height: float = 3.4) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def _style(ax: Any) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(axis="y", color="#e3e6ec", linewidth=0.8)
    ax.set_axisbelow(True)


# --- figures, one function per section; each returns [(data uri, caption)] -------------


def _overlap_figures(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    dist = figs.get("overlap_distribution")
    if isinstance(dist, Mapping) and dist.get("counts"):
        k = int(dist["k"])
        counts = dist["counts"]
        total = sum(counts) or 1
        fig = _new_figure(5.6, 3.2)
        ax = fig.add_subplot()
        xs = [j / k for j in range(len(counts))]
        ax.bar(xs, [c / total for c in counts], width=0.8 / k, color=_BLUE, label="items")
        chance = dist.get("chance")
        if chance is not None:
            ax.axvline(chance, color=_ORANGE, linestyle="--", linewidth=1.6,
                       label=f"chance k/(n−1) = {chance:.4f}")  # fmt: skip
        mean = dist.get("mean")
        if mean is not None:
            ax.axvline(mean, color=_GREEN, linewidth=1.6, label=f"mean = {mean:.3f}")
        last = max((j for j, c in enumerate(counts) if c), default=0)
        ax.set_xlim(-0.6 / k, min(1.0, (last + 1.5) / k))
        ax.set_xlabel(f"overlap@{k} of an item (share of its {k} neighbours in both views)")
        ax.set_ylabel("share of query items")
        ax.legend(frameon=False)
        _style(ax)
        out.append((figure_png(fig), f"Distribution of per-item overlap@{k}, with the chance "
                    "level of two independent random neighbour lists."))  # fmt: skip
    ks = _ks(sec)
    if ks:
        fig = _new_figure(4.4, 3.2)
        ax = fig.add_subplot()
        xs = list(range(len(ks)))
        means = [sec["k"][k]["overlap"] for k in ks]
        lo = [m - (sec["k"][k]["ci95"][0] or m) for k, m in zip(ks, means, strict=True)]
        hi = [(sec["k"][k]["ci95"][1] or m) - m for k, m in zip(ks, means, strict=True)]
        ax.bar(xs, means, color=_BLUE, width=0.55, yerr=[lo, hi], capsize=4, label="overlap@k")
        ax.plot(xs, [sec["k"][k]["chance"] for k in ks], "o--", color=_ORANGE, label="chance")
        ax.set_xticks(xs, [f"k={k}" for k in ks])
        ax.set_ylabel("mean overlap@k")
        ax.legend(frameon=False)
        _style(ax)
        out.append((figure_png(fig), "Mean overlap@k with its 95% bootstrap interval, "
                    "against chance."))  # fmt: skip
    return out


def _err(value: float, ci: Any) -> tuple[float, float]:
    """Error-bar lengths (below, above) from an interval; zero when there is none."""
    if not isinstance(ci, (list, tuple)) or ci[0] is None or ci[1] is None:
        return 0.0, 0.0
    return max(value - ci[0], 0.0), max(ci[1] - value, 0.0)


def _hits_figures(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> list[tuple[str, str]]:
    ks = _ks(sec)
    if not ks:
        return []
    fig = _new_figure(8.4, 3.8)
    ax_hits, ax_users = fig.subplots(1, 2)
    classes = (("common", _PURPLE), ("semantic_only", _BLUE), ("collaborative_only", _ORANGE))
    xs = list(range(len(ks)))
    bottom = [0.0] * len(ks)
    for name, color in classes:
        totals = [sum((sec["k"][k].get("hits") or {}).values()) or 1 for k in ks]
        share = [
            (sec["k"][k].get("hits") or {}).get(name, 0) / t
            for k, t in zip(ks, totals, strict=True)
        ]
        ax_hits.bar(xs, share, bottom=bottom, color=color, width=0.6,
                    label=name.replace("_", " "))  # fmt: skip
        bottom = [b + v for b, v in zip(bottom, share, strict=True)]
    ax_hits.set_xticks(xs, [f"K={k}" for k in ks])
    ax_hits.set_ylabel("share of pooled hits")
    ax_hits.set_title("hits by which view found them", fontsize=10)
    ax_hits.set_ylim(0, 1)
    ax_hits.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14),
                   ncol=3)  # fmt: skip
    user_classes = (("both", _PURPLE), ("semantic_only", _BLUE),
                    ("collaborative_only", _ORANGE), ("no_hit", _GREY))  # fmt: skip
    bottom = [0.0] * len(ks)
    for name, color in user_classes:
        share = [_get(sec, "k", k, "user_classes", name, "share") or 0.0 for k in ks]
        ax_users.bar(xs, share, bottom=bottom, color=color, width=0.6,
                     label=name.replace("_", " "))  # fmt: skip
        bottom = [b + v for b, v in zip(bottom, share, strict=True)]
    ax_users.set_xticks(xs, [f"K={k}" for k in ks])
    ax_users.set_ylabel("share of users")
    ax_users.set_title("users by which view hits", fontsize=10)
    ax_users.set_ylim(0, 1)
    ax_users.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14),
                    ncol=2)  # fmt: skip
    for ax in (ax_hits, ax_users):
        _style(ax)
    return [(figure_png(fig), "Hit classes as stacked bars: left, the pooled hits (an item of "
             "T_u in a top-K list) found by both views, only the semantic or only the "
             "collaborative view; right, users by the views that hit for them.")]  # fmt: skip


def _oracle_figures(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> list[tuple[str, str]]:
    ks = _ks(sec)
    if not ks:
        return []
    k = _headline_k(ks)
    row = sec["k"][k]
    bars: list[tuple[str, float, Any, str]] = []
    for view, color in (("semantic", _BLUE), ("collaborative", _ORANGE)):
        value = _get(row, "recall", view)
        if value is not None:
            bars.append((view, value, _get(row, "recall", "ci95", view), color))
    for name, f in (row.get("fusion") or {}).items():
        if f.get("recall") is not None:
            label = {"norm_concat_norm": "norm-concat-norm", "score_interpolation": "interpolation",
                     "rrf": "RRF"}.get(name, name)  # fmt: skip
            bars.append((label, f["recall"], _get(f, "ci95", "recall"), _GREEN))
    for bound in ("select", "budget", "union"):
        value = _get(row, "oracle", bound)
        if value is not None:
            bars.append((f"oracle {bound}", value, _get(row, "oracle", "ci95", bound), _PURPLE))
    fig = _new_figure(7.2, 0.42 * len(bars) + 1.3)
    ax = fig.add_subplot()
    ys = list(range(len(bars)))[::-1]
    errs = [_err(v, ci) for _, v, ci, _ in bars]
    ax.barh(ys, [b[1] for b in bars], color=[b[3] for b in bars], height=0.62,
            xerr=[[e[0] for e in errs], [e[1] for e in errs]], capsize=3)  # fmt: skip
    for y, (_, value, _, _) in zip(ys, bars, strict=True):
        ax.annotate(f"{value:.3f}", (0, y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8, color="white", fontweight="bold")  # fmt: skip
    best = _get(row, "best_single", "recall")
    if best is not None:
        ax.axvline(best, color="#333", linestyle=":", linewidth=1.2,
                   label=f"best single view ({_get(row, 'best_single', 'view')})")  # fmt: skip
        ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    ax.set_yticks(ys, [b[0] for b in bars])
    ax.set_xlabel(f"Recall@{k}")
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e3e6ec", linewidth=0.8)
    return [(figure_png(fig), f"Recall@{k}: single views (blue, orange), practical fusion "
             "(green) and the oracle bounds (purple), each with its 95% bootstrap interval "
             "over users.")]  # fmt: skip


def _probe_figures(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> list[tuple[str, str]]:
    caps = sec.get("capacities") or {}
    if not caps:
        return []
    kind = _get(sec, "shift", "kind") or "shift"
    names = list(caps)
    xs = list(range(len(names)))
    fig = _new_figure(6.0, 3.4)
    ax = fig.add_subplot()
    width = 0.36
    random_r2 = [_get(caps[n], "random_test", "r2") for n in names]
    shift_r2 = [_get(caps[n], "test", "r2") for n in names]
    ax.bar([x - width / 2 for x in xs], [v or 0.0 for v in random_r2], width, color=_BLUE,
           label="random (in distribution)")  # fmt: skip
    if kind != "random":
        ax.bar([x + width / 2 for x in xs], [v or 0.0 for v in shift_r2], width, color=_ORANGE,
               label=f"{kind} shift")  # fmt: skip
    ax.axhline(0, color="#333", linewidth=0.8)
    labelled = [(-width / 2, random_r2)] + ([(width / 2, shift_r2)] if kind != "random" else [])
    for offset, values in labelled:
        for x, value in zip(xs, values, strict=True):
            if value is not None:
                ax.annotate(
                    f"{value:.3f}",
                    (x + offset, value),
                    ha="center",
                    fontsize=8,
                    xytext=(0, 3 if value >= 0 else -10),
                    textcoords="offset points",
                )
    ax.margins(y=0.12)
    ax.set_xticks(xs, names)
    ax.set_ylabel("test R²")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    _style(ax)
    return [(figure_png(fig), f"Probe R² on held-out items by capacity ({sec.get('direction')}):"
             f" random split vs the {kind} shift. R² below 0 means worse than predicting the "
             "test items' mean.")]  # fmt: skip


def _structure_figures(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> list[tuple[str, str]]:
    rho = sec.get("canonical_correlations") or []
    if not rho:
        return []
    held = sec.get("canonical_correlations_heldout") or []
    fig = _new_figure(7.0, 3.2)
    ax = fig.add_subplot()
    xs = list(range(1, len(rho) + 1))
    ax.plot(xs, rho, "o-", color=_BLUE, markersize=3, label="fit items")
    if held:
        ax.plot(xs[: len(held)], held, "s-", color=_GREEN, markersize=3, alpha=0.8,
                label="held-out items")  # fmt: skip
    p95 = sec.get("null_p95")
    if p95 is not None:
        ax.axhline(p95, color=_ORANGE, linestyle="--",
                   label=f"null 95th percentile = {p95:.3f}")  # fmt: skip
    shared = sec.get("shared_dim") or 0
    if shared:
        ax.axvspan(0.5, shared + 0.5, color=_PURPLE, alpha=0.08,
                   label=f"shared dimension = {shared}")  # fmt: skip
    ax.set_xlabel("canonical pair")
    ax.set_ylabel("canonical correlation")
    ax.set_ylim(bottom=min(0.0, *(v for v in held if v is not None)) if held else 0.0)
    ax.legend(frameon=False, fontsize=8)
    _style(ax)
    return [(figure_png(fig), "Canonical correlations of the two views against the "
             "permutation null: pairs above the null's 95th percentile form the shared "
             "subspace.")]  # fmt: skip


_FIGURES: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], list[tuple[str, str]]]] = {
    "overlap": _overlap_figures,
    "hits": _hits_figures,
    "oracle": _oracle_figures,
    "probe": _probe_figures,
    "structure": _structure_figures,
}


# --- page ------------------------------------------------------------------------------


def _table_html(table: TableData) -> str:
    numeric = table.numeric or [False] * len(table.headers)
    head = "".join(
        f'<th class="{"num" if numeric[i] else ""}">{_esc(h)}</th>'
        for i, h in enumerate(table.headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i < len(numeric) and numeric[i] else ""}">{_esc(c)}</td>'
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in table.rows
    )
    note = f'<p class="note">{_esc(table.note)}</p>' if table.note else ""
    thead = f"<thead><tr>{head}</tr></thead>" if any(table.headers) else ""
    return (
        f'<div class="tbl"><h3>{_esc(table.title)}</h3>'
        f'<div class="scroll"><table>{thead}<tbody>{body}</tbody></table></div>{note}</div>'
    )


def _section_html(name: str, sec: Mapping[str, Any], figs: Mapping[str, Any]) -> str:
    title = SECTION_TITLES.get(name, name)
    parts = [f'<section id="{name}"><h2>{_esc(title)} <small>({name})</small></h2>']
    if name in SECTION_LEADS:
        parts.append(f'<p class="lead">{_esc(SECTION_LEADS[name])}</p>')
    if sec.get("status") == "not run":
        parts.append(f'<p class="notrun">not run: {_esc(sec.get("reason", ""))}</p></section>')
        return "".join(parts)
    builder = _FIGURES.get(name)
    if builder is not None:
        parts.append('<div class="figs">')
        for uri, caption in builder(sec, figs):
            parts.append(
                f'<figure><img alt="{_esc(caption)}" src="{uri}">'
                f"<figcaption>{_esc(caption)}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.append('<div class="tables">')
    for table in section_tables(name, sec):
        parts.append(_table_html(table))
    parts.append("</div>")
    definitions = sec.get("definitions")
    if isinstance(definitions, Mapping) and definitions:
        rows = "".join(
            f"<tr><td><b>{_esc(k)}</b></td><td style='white-space:normal'>{_esc(v)}</td></tr>"
            for k, v in definitions.items()
            if isinstance(v, str)
        )
        parts.append(f"<details><summary>Definitions</summary><table>{rows}</table></details>")
    parts.append("</section>")
    return "".join(parts)


def _provenance_html(doc: Mapping[str, Any]) -> str:
    prov = doc.get("provenance") or {}
    rows = []
    for role, info in (prov.get("inputs") or {}).items():
        shape = info.get("shape")
        rows.append(
            [
                role,
                info.get("path", ""),
                str(shape) if shape is not None else "–",
                f"{info.get('sha256', '')[:16]}…",
            ]  # fmt: skip
        )
    inputs = TableData("Input files", ["role", "path", "shape", "sha256"], rows)
    split = prov.get("split") or {}
    facts = [
        ["complement", str(prov.get("complement_version", ""))],
        ["items (shared universe)", fmt(prov.get("n_items"))],
        ["item universe sha256", str(prov.get("item_universe_sha256", ""))[:16] + "…"],
        ["split", f"{split.get('kind', '–')} (cutoff {fmt(split.get('cutoff'))}, "
                  f"test_frac {fmt(split.get('test_frac'))})" if split else "none (no log)"],
        ["seed", fmt(_get(prov, "seeds", "seed"))],
        ["retrieval", " / ".join(str(v) for v in (prov.get("retrieval") or {}).values())],
        ["config", str(_get(prov, "config", "config_file") or "flags only")],
    ]  # fmt: skip
    timings = doc.get("timings") or {}
    time_rows = [[name, f"{float(sec):.2f} s"] for name, sec in timings.items()]
    return (
        '<section id="provenance"><h2>Provenance</h2><div class="tables">'
        + _table_html(TableData("Run", ["", ""], facts))
        + _table_html(TableData("Wall time", ["step", "time"], time_rows, numeric=[False, True]))
        + _table_html(inputs)
        + "</div></section>"
    )


def render_html(doc: Mapping[str, Any]) -> str:
    """The whole page as a string."""
    figs = doc.get("figures") or {}
    names = [n for n in SECTION_NAMES if n in doc]
    nav = "".join(f'<a href="#{n}">{n}</a>' for n in names) + '<a href="#provenance">provenance</a>'
    cards = "".join(
        f'<div class="card"><div class="label">{_esc(label)}</div>'
        f'<div class="value">{_esc(value)}</div></div>'
        for label, value in headline(doc)
    )
    prov = doc.get("provenance") or {}
    split = prov.get("split") or {}
    subtitle = (
        f"{fmt(prov.get('n_items'))} items · split {split.get('kind', 'none')} · "
        f"complement {prov.get('complement_version', '')}"
    )
    body = "".join(_section_html(n, doc[n], figs) for n in names)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>complement report</title><style>{_CSS}</style></head><body>"
        f'<header class="top"><h1>complement report</h1><p>{_esc(subtitle)}</p>'
        f"<nav>{nav}</nav></header><main>"
        f'<div class="cards">{cards}</div>{body}{_provenance_html(doc)}</main></body></html>\n'
    )
