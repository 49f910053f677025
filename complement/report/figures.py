"""The HTML page's plots, one function per document kind, each returning ``[(data URI, caption)]``.

Figures are drawn with matplotlib's Agg canvas (no pyplot, no global backend state) and
embedded as base64 PNG without a timestamp, so the same document gives the same bytes. Labels
use the table model's names and number formats, so a plot reads like its tables.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Mapping
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from complement.headline import headline_k
from complement.report.model.common import BOUNDS, HIT_CLASSES, USER_CLASSES, VIEWS, get, ks, name
from complement.report.model.fmt import fmt

__all__ = ["FIGURES", "figure_png", "section_figures"]

_BLUE, _ORANGE, _GREEN, _GREY, _PURPLE = "#3b6fb6", "#e08a2c", "#4a9a5b", "#8a8a8a", "#8464a8"
_COLORS = {"common": _PURPLE, "both": _PURPLE, "semantic_only": _BLUE,
           "collaborative_only": _ORANGE, "no_hit": _GREY}  # fmt: skip

Figures = list[tuple[str, str]]


def figure_png(fig: Figure) -> str:
    """A figure as a ``data:image/png;base64,...`` URI (no timestamp, so deterministic)."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _style(ax: Any) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(axis="y", color="#e3e6ec", linewidth=0.8)
    ax.set_axisbelow(True)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _nan(value: Any) -> float:
    number = _num(value)
    return math.nan if number is None else number


def _err(value: float, ci: Any) -> tuple[float, float]:
    """Error-bar lengths (below, above) from an interval; zero when there is none."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return 0.0, 0.0
    lo, hi = _num(ci[0]), _num(ci[1])
    if lo is None or hi is None:
        return 0.0, 0.0
    return max(value - lo, 0.0), max(hi - value, 0.0)


def _overlap(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> Figures:
    out: Figures = []
    dist = figs.get("overlap_distribution")
    if isinstance(dist, Mapping) and dist.get("counts") and _num(dist.get("k")):
        k = int(dist["k"])
        counts = [c if isinstance(c, (int, float)) else 0 for c in dist["counts"]]
        total = sum(counts) or 1
        fig = _new_figure(5.6, 3.2)
        ax = fig.add_subplot()
        ax.bar([j / k for j in range(len(counts))], [c / total for c in counts],
               width=0.8 / k, color=_BLUE, label="items")  # fmt: skip
        chance, mean = _num(dist.get("chance")), _num(dist.get("mean"))
        if chance is not None:
            ax.axvline(chance, color=_ORANGE, linestyle="--", linewidth=1.6,
                       label=f"chance k/(n−1) = {fmt(chance, 4)}")  # fmt: skip
        if mean is not None:
            ax.axvline(mean, color=_GREEN, linewidth=1.6, label=f"mean = {fmt(mean)}")
        last = max((j for j, c in enumerate(counts) if c), default=0)
        ax.set_xlim(-0.6 / k, min(1.0, (last + 1.5) / k))
        ax.set_xlabel(f"overlap@{k} of an item (share of its {k} neighbours in both views)")
        ax.set_ylabel("share of query items")
        ax.legend(frameon=False)
        _style(ax)
        out.append((figure_png(fig), f"Distribution of per-item overlap@{k}, with the chance "
                    "level of two independent random neighbour lists."))  # fmt: skip
    cutoffs = [k for k in ks(sec) if _num(get(sec, "k", k, "overlap")) is not None]
    if cutoffs:
        fig = _new_figure(4.4, 3.2)
        ax = fig.add_subplot()
        xs = list(range(len(cutoffs)))
        means = [float(get(sec, "k", k, "overlap")) for k in cutoffs]
        errs = [_err(m, get(sec, "k", k, "ci95")) for k, m in zip(cutoffs, means, strict=True)]
        ax.bar(xs, means, color=_BLUE, width=0.55, capsize=4, label="overlap@k",
               yerr=[[e[0] for e in errs], [e[1] for e in errs]])  # fmt: skip
        chances = [_num(get(sec, "k", k, "chance")) or 0.0 for k in cutoffs]
        ax.plot(xs, chances, "o--", color=_ORANGE, label="chance")
        ax.set_xticks(xs, [f"k={k}" for k in cutoffs])
        ax.set_ylabel("mean overlap@k")
        ax.legend(frameon=False)
        _style(ax)
        out.append((figure_png(fig), "Mean overlap@k with its 95% bootstrap interval, "
                    "against chance."))  # fmt: skip
    return out


def _stacked(ax: Any, cutoffs: list[str], shares: Mapping[str, list[float]], ylabel: str,
             title: str, ncol: int) -> None:  # fmt: skip
    xs = list(range(len(cutoffs)))
    bottom = [0.0] * len(cutoffs)
    for cls, values in shares.items():
        ax.bar(xs, values, bottom=bottom, color=_COLORS.get(cls, _GREY), width=0.6,
               label=name(cls))  # fmt: skip
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(xs, [f"K={k}" for k in cutoffs])
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14),
              ncol=ncol)  # fmt: skip
    _style(ax)


def _hits(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> Figures:
    cutoffs = ks(sec)
    if not cutoffs:
        return []
    fig = _new_figure(8.4, 3.8)
    ax_hits, ax_users = fig.subplots(1, 2)
    totals = [sum(_num(get(sec, "k", k, "hits", c)) or 0.0 for c in HIT_CLASSES) or 1.0
              for k in cutoffs]  # fmt: skip
    hit_shares = {
        c: [(_num(get(sec, "k", k, "hits", c)) or 0.0) / t for k, t in zip(cutoffs, totals,
                                                                         strict=True)]
        for c in HIT_CLASSES
    }  # fmt: skip
    user_shares = {
        c: [_num(get(sec, "k", k, "user_classes", c, "share")) or 0.0 for k in cutoffs]
        for c in USER_CLASSES
    }
    _stacked(ax_hits, cutoffs, hit_shares, "share of pooled hits",
             "hits by which view found them", 3)  # fmt: skip
    _stacked(ax_users, cutoffs, user_shares, "share of users", "users by which view hits", 2)
    return [(figure_png(fig), "Hit classes as stacked bars: left, the pooled hits (an item of "
             "T_u in a top-K list) found by both views, only the semantic or only the "
             "collaborative view; right, users by the views that hit for them.")]  # fmt: skip


def _oracle(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> Figures:
    k = headline_k(ks(sec))
    if k is None:
        return []
    row = get(sec, "k", str(k)) or {}
    bars: list[tuple[str, float, Any, str]] = []
    for view, color in zip(VIEWS, (_BLUE, _ORANGE), strict=True):
        value = _num(get(row, "recall", view))
        if value is not None:
            bars.append((name(view), value, get(row, "recall", "ci95", view), color))
    for method, f in (row.get("fusion") or {}).items():
        value = _num(get(f, "recall"))
        if value is not None:
            bars.append((name(method), value, get(f, "ci95", "recall"), _GREEN))
    for bound in BOUNDS:
        value = _num(get(row, "oracle", bound))
        if value is not None:
            bars.append((f"oracle {name(bound)}", value, get(row, "oracle", "ci95", bound),
                         _PURPLE))  # fmt: skip
    if not bars:
        return []
    fig = _new_figure(7.2, 0.42 * len(bars) + 1.3)
    ax = fig.add_subplot()
    ys = list(range(len(bars)))[::-1]
    errs = [_err(v, ci) for _, v, ci, _ in bars]
    ax.barh(ys, [b[1] for b in bars], color=[b[3] for b in bars], height=0.62, capsize=3,
            xerr=[[e[0] for e in errs], [e[1] for e in errs]])  # fmt: skip
    for y, (_, value, _, _) in zip(ys, bars, strict=True):
        ax.annotate(fmt(value), (0, y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8, color="white", fontweight="bold")  # fmt: skip
    best = _num(get(row, "best_single", "recall"))
    if best is not None:
        ax.axvline(best, color="#333", linestyle=":", linewidth=1.2,
                   label=f"best single view ({name(get(row, 'best_single', 'view'))})")  # fmt: skip
        ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    ax.set_yticks(ys, [b[0] for b in bars])
    ax.set_xlabel(f"Recall@{k}")
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e3e6ec", linewidth=0.8)
    return [(figure_png(fig), f"Recall@{k}: single views (blue, orange), practical fusion "
             "(green) and the oracle bounds (purple), each with its 95% bootstrap interval "
             "over users.")]  # fmt: skip


def _probe(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> Figures:
    caps = sec.get("capacities")
    if not isinstance(caps, Mapping) or not caps:
        return []
    kind = get(sec, "shift", "kind") or "shift"
    names = [str(n) for n in caps]
    xs = list(range(len(names)))
    width = 0.36
    random = [_num(get(c, "random_test", "r2")) for c in caps.values()]
    series = []
    if any(v is not None for v in random):  # none without a random reference (gap_reason)
        series.append((-width / 2, random, _BLUE, "random (in distribution)"))
    if kind != "random" or not series:
        offset = width / 2 if series else 0.0
        series.append((offset, [_num(get(c, "test", "r2")) for c in caps.values()], _ORANGE,
                       f"{kind} shift"))  # fmt: skip
    fig = _new_figure(6.0, 3.4)
    ax = fig.add_subplot()
    for offset, values, color, label in series:
        ax.bar([x + offset for x in xs], [v or 0.0 for v in values], width, color=color,
               label=label)  # fmt: skip
        for x, value in zip(xs, values, strict=True):
            if value is not None:
                ax.annotate(fmt(value), (x + offset, value), ha="center", fontsize=8,
                            xytext=(0, 3 if value >= 0 else -10),
                            textcoords="offset points")  # fmt: skip
    ax.axhline(0, color="#333", linewidth=0.8)
    ax.margins(y=0.12)
    ax.set_xticks(xs, names)
    ax.set_ylabel("test R²")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    _style(ax)
    versus = f"random split vs the {kind} shift" if len(series) == 2 else f"the {kind} shift"
    return [(figure_png(fig), f"Probe R² on held-out items by capacity "
             f"({name(sec.get('direction'))}): {versus}. R² below 0 "
             "means worse than predicting the test items' mean.")]  # fmt: skip


def _structure(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> Figures:
    rho = [_nan(v) for v in sec.get("canonical_correlations") or []]
    if not rho:
        return []
    held = [_nan(v) for v in sec.get("canonical_correlations_heldout") or []]
    fig = _new_figure(7.0, 3.2)
    ax = fig.add_subplot()
    xs = list(range(1, len(rho) + 1))
    ax.plot(xs, rho, "o-", color=_BLUE, markersize=3, label="fit items")
    if held:
        ax.plot(xs[: len(held)], held[: len(xs)], "s-", color=_GREEN, markersize=3, alpha=0.8,
                label="held-out items")  # fmt: skip
    p95 = _num(sec.get("null_p95"))
    if p95 is not None:
        ax.axhline(p95, color=_ORANGE, linestyle="--",
                   label=f"null 95th percentile = {fmt(p95)}")  # fmt: skip
    shared = sec.get("shared_dim") or 0
    if shared:
        ax.axvspan(0.5, shared + 0.5, color=_PURPLE, alpha=0.08,
                   label=f"shared dimension = {shared}")  # fmt: skip
    ax.set_xlabel("canonical pair")
    ax.set_ylabel("canonical correlation")
    ax.set_ylim(bottom=min([0.0, *(v for v in held if not math.isnan(v))]))
    ax.legend(frameon=False, fontsize=8)
    _style(ax)
    return [(figure_png(fig), "Canonical correlations of the two views against the "
             "permutation null: pairs above the null's 95th percentile form the shared "
             "subspace.")]  # fmt: skip


def _pair(sec: Mapping[str, Any], a: str, b: str, *path: str) -> float:
    value = _num(get(sec, "pairs", a, b, *path))
    if value is None:
        value = _num(get(sec, "pairs", b, a, *path))
    return math.nan if value is None else value


def _heatmap(ax: Any, names: list[str], values: list[list[float]], title: str) -> Any:
    """A view × view matrix in [0, 1], each cell annotated; the diagonal left blank."""
    image = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="viridis")
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if not math.isnan(value):
                ax.text(j, i, fmt(value), ha="center", va="center", fontsize=8,
                        color="white" if value < 0.6 else "black")  # fmt: skip
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_title(title, fontsize=10)
    return image


def _compare(sec: Mapping[str, Any], figs: Mapping[str, Any]) -> Figures:
    views = sec.get("views")
    names = [str(v) for v in views] if isinstance(views, list) else []
    if len(names) < 2:
        return []
    out: Figures = []
    k = headline_k(ks(get(sec, "pairs", names[0], names[1])))
    panels: list[tuple[str, ...]] = [("cka_linear",), ("cka_debiased",)]
    titles = ["linear CKA", "debiased linear CKA"]
    if k is not None:
        panels.insert(0, ("k", str(k), "overlap"))
        titles.insert(0, f"overlap@{k}")
    size = 1.0 + 0.55 * len(names)
    fig = _new_figure(size * len(panels) + 0.8, size + 0.6)
    axes = fig.subplots(1, len(panels))
    image = None
    for ax, path, title in zip(axes, panels, titles, strict=True):
        values = [[math.nan if a == b else _pair(sec, a, b, *path) for b in names] for a in names]
        image = _heatmap(ax, names, values, title)
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8)
    out.append((figure_png(fig), "Pairwise agreement of the views: neighbour overlap at the "
                "headline k (chance is k/(n−1)), linear CKA and debiased linear CKA (near 0 "
                "for unrelated views)."))  # fmt: skip
    kk = headline_k(ks(sec))
    steps = get(sec, "k", str(kk), "greedy") if kk is not None else None
    if isinstance(steps, list) and steps:
        fig = _new_figure(1.6 + 0.7 * len(steps), 3.2)
        ax = fig.add_subplot()
        xs = list(range(len(steps)))
        budgets = [_nan(get(s, "budget")) for s in steps]
        errs = [_err(b, get(s, "ci95", "budget")) for s, b in zip(steps, budgets, strict=True)]
        ax.bar(xs, budgets, color=[_BLUE] + [_PURPLE] * (len(steps) - 1), width=0.6, capsize=4,
               yerr=[[e[0] for e in errs], [e[1] for e in errs]])  # fmt: skip
        ax.set_xticks(xs, [("" if j == 0 else "+ ") + str(get(s, "view")) for j, s in
                           enumerate(steps)])  # fmt: skip
        ax.set_ylabel(f"budget oracle Recall@{kk}")
        _style(ax)
        out.append((figure_png(fig), f"Greedy forward selection: Recall@{kk} of the budget "
                    "oracle as views are added (the first bar is a single view), with 95% "
                    "bootstrap intervals over users."))  # fmt: skip
    return out


#: the figures of each document kind that has any
FIGURES: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Figures]] = {
    "overlap": _overlap,
    "hits": _hits,
    "oracle": _oracle,
    "probe": _probe,
    "structure": _structure,
    "compare": _compare,
}


def section_figures(name_: str, sec: Mapping[str, Any], figs: Mapping[str, Any]) -> Figures:
    """``[(data URI, caption)]`` of one section (``figs``: the report's ``figures`` data)."""
    builder = FIGURES.get(name_)
    return [] if builder is None else builder(sec, figs)
