"""Tables of the ``diversity`` and ``segments`` parts of hits, oracle, overlap, compare, align.

Diversity: coverage@K and intra-list diversity@K of every ranked list (views, fusions), the
effective rank of every view's item matrix as a note. Segments: the headline figures of the
document's own table for each ``--segment-col`` segment at every K; segments below the
minimum size are listed as too small, without numbers. compare also has its item-level
overlap@k of every pair per item segment (``pair_segments``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from complement.report.model.common import VIEWS, get, name
from complement.report.model.fmt import MISSING, count, fmt, fmt_ci
from complement.report.model.table import Table, grouped, make_table

__all__ = ["diversity_tables", "extra_tables", "segment_tables"]


def _cutoffs(node: Any) -> list[str]:
    per_k = get(node, "k")
    if not isinstance(per_k, Mapping):
        return []
    return sorted((str(k) for k in per_k if str(k).isdigit()), key=int)


def diversity_tables(kind: str, doc: Mapping[str, Any]) -> list[Table]:
    """Coverage and intra-list diversity per K and list; effective ranks as a note."""
    div = doc.get("diversity")
    if not isinstance(div, Mapping):
        return []
    ranks = div.get("effective_rank") or {}
    rank_line = "effective rank of the item matrices: " + ", ".join(
        f"{name(v)} {fmt(r, 1)}" for v, r in ranks.items()
    )
    settings = div.get("settings")
    if isinstance(settings, Mapping):  # align: one group per setting at its one K
        parts = [(str(s), node) for s, node in settings.items() if isinstance(node, Mapping)]
        first = f"setting (K = {div.get('k')})"
        n_items = "setting's"
    else:
        parts = [(k, get(div, "k", k)) for k in _cutoffs(div)]
        first = "K"
        n_items = count(div.get("n_items"))
    groups = []
    for label, node in parts:
        cov = get(node, "coverage") or {}
        ild = get(node, "intra_list_diversity") or {}
        groups.append([[label, name(v), fmt(cov.get(v)), fmt(ild.get(v))] for v in cov])
    rows, ends = grouped(groups)
    return [
        make_table(
            f"{kind}.diversity",
            "Diversity: catalogue coverage and intra-list diversity",
            [first, "list", "coverage", "intra-list diversity"],
            rows,
            notes=[
                rank_line,
                f"intra-list diversity: mean pairwise cosine distance in the "
                f"{name(div.get('view'))} view; coverage: share of the "
                f"{n_items} candidate items recommended to anyone",
            ],
            text=(1,),
            group_ends=ends,
        )
    ]


def _hits_cells(row: Mapping[str, Any]) -> list[str]:
    return [
        *(fmt(get(row, "recall", v)) for v in VIEWS),
        fmt(row.get("list_jaccard")),
        fmt(row.get("complementary_ratio")),
    ]


def _oracle_cells(row: Mapping[str, Any]) -> list[str]:
    fusion = get(row, "fusion") or {}
    recalls = {f: get(fusion, f, "recall") for f in fusion}
    numbers = {f: r for f, r in recalls.items() if isinstance(r, (int, float))}
    best = max(numbers, key=lambda f: numbers[f]) if numbers else None
    return [
        *(fmt(get(row, "recall", v)) for v in VIEWS),
        *(fmt(get(row, "oracle", b)) for b in ("union", "budget")),
        MISSING if best is None else name(best),
        fmt(None if best is None else numbers[best]),
    ]


def _compare_cells(row: Mapping[str, Any], views: list[str]) -> list[str]:
    greedy = row.get("greedy") or []
    order = " → ".join(str(step.get("view")) for step in greedy if isinstance(step, Mapping))
    return [
        *(fmt(get(row, "recall", v)) for v in views),
        fmt(get(row, "oracle", "budget")),
        order or MISSING,
    ]


def _headers(
    kind: str, doc: Mapping[str, Any]
) -> tuple[list[str], Callable[[Mapping[str, Any]], list[str]]]:
    if kind == "hits":
        return [*(f"recall {name(v)}" for v in VIEWS), "list Jaccard", "ratio"], _hits_cells
    if kind == "oracle":
        return [*(f"recall {name(v)}" for v in VIEWS), "union", "budget", "best fusion",
                "its recall"], _oracle_cells  # fmt: skip
    views = [str(v) for v in doc.get("views") or []]
    return (
        [*(f"recall {v}" for v in views), "budget", "greedy order"],
        lambda row: _compare_cells(row, views),
    )


def _user_segments(kind: str, doc: Mapping[str, Any], seg: Mapping[str, Any]) -> Table:
    by = seg.get("by_segment") or {}
    sized = [s for s in by.values() if isinstance(s, Mapping) and not s.get("too_small")]
    cutoffs = _cutoffs(sized[0] if sized else doc)  # every segment too small: the run's K
    heads, cells = _headers(kind, doc)
    groups = []
    for k in cutoffs:
        group = []
        for label, node in by.items():
            if node.get("too_small"):
                group.append([k, str(label), count(node.get("n_users")), "too small",
                              *([MISSING] * (len(heads) - 1))])  # fmt: skip
                continue
            row = get(node, "k", k) or {}
            group.append([k, str(label), count(node.get("n_users")), *cells(row)])
        groups.append(group)
    rows, ends = grouped(groups)
    text = (1,) + ((len(heads) + 2,) if kind in ("compare", "oracle") else ())
    if kind == "oracle":
        text = (1, len(heads) + 1)
    return make_table(
        f"{kind}.segments",
        f"By segment of {seg.get('column')} ({_source(seg)})",
        ["K", "segment", "users", *heads],
        rows,
        notes=[*_notes(seg, every=not sized), "95% intervals of every figure are in the JSON"],
        text=text,
        group_ends=ends,
    )


def _source(seg: Mapping[str, Any]) -> str:
    source = seg.get("source")
    if source == "activity":
        return "built-in user activity"
    return "item segments" if source == "items" else "user segments"


def _notes(seg: Mapping[str, Any], *, restricted: bool = True, every: bool = False) -> list[str]:
    """Size rule (``every``: no segment reaches it), how a segment cuts (``restricted``: an item
    segment restricts targets), unassigned rows."""
    unit = seg.get("unit", "users")
    minimum = count(seg.get("minimum"))
    notes = [
        f"every segment has fewer than {minimum} {unit}: all are too small"
        if every and seg.get("by_segment")
        else f"segments with fewer than {minimum} {unit} are too small"
    ]
    if seg.get("source") == "items" and restricted:
        notes.append("item segment: targets restricted to the segment's items")
    if seg.get("source") == "activity":
        notes.append("cold/mid/hot = bottom 60% / next 20% / top 20% of users by history rows")
    if seg.get("n_unassigned"):
        what = "items" if seg.get("source") == "items" else "users"
        notes.append(f"{count(seg.get('n_unassigned'))} {what} belong to no segment")
    return notes


def _overlap_segments(doc: Mapping[str, Any], seg: Mapping[str, Any]) -> Table:
    by = seg.get("by_segment") or {}
    sized = [s for s in by.values() if isinstance(s, Mapping) and not s.get("too_small")]
    groups = []
    for k in _cutoffs(sized[0] if sized else doc):
        group = []
        for label, node in by.items():
            row = get(node, "k", k)
            if node.get("too_small") or not isinstance(row, Mapping):
                group.append([k, str(label), count(node.get("n_items")), "too small", MISSING,
                              MISSING])  # fmt: skip
                continue
            group.append([k, str(label), count(node.get("n_items")), fmt(row.get("overlap")),
                          fmt_ci(row.get("ci95")), fmt(row.get("jaccard"))])  # fmt: skip
        groups.append(group)
    rows, ends = grouped(groups)
    return make_table(
        "overlap.segments",
        f"Mean overlap@k by segment of {seg.get('column')} (query items)",
        ["k", "segment", "items", "overlap", "95% CI", "jaccard"],
        rows,
        notes=_notes(seg, every=not sized),
        text=(1,),
        group_ends=ends,
    )


def _pair_segments(doc: Mapping[str, Any], seg: Mapping[str, Any]) -> Table:
    """compare: each pair's mean overlap@k per item segment, a column per pair."""
    by = seg.get("by_segment") or {}
    views = [str(v) for v in doc.get("views") or []]
    pairs = [(a, b) for i, a in enumerate(views) for b in views[i + 1 :]]
    sized = [s for s in by.values() if isinstance(s, Mapping) and not s.get("too_small")]
    first = get(sized[0] if sized else doc, "pairs", *pairs[0]) if pairs else None
    groups = []
    for k in _cutoffs(first):
        group = []
        for label, node in by.items():
            if node.get("too_small"):
                group.append([k, str(label), count(node.get("n_items")), "too small",
                              *([MISSING] * (len(pairs) - 1))])  # fmt: skip
                continue
            cells = [fmt(get(node, "pairs", a, b, "k", k, "overlap")) for a, b in pairs]
            group.append([k, str(label), count(node.get("n_items")), *cells])
        groups.append(group)
    rows, ends = grouped(groups)
    return make_table(
        "compare.pair_segments",
        f"Neighbour overlap@k of each pair by segment of {seg.get('column')} (query items)",
        ["k", "segment", "items", *(f"{a}–{b}" for a, b in pairs)],
        rows,
        notes=[
            *_notes(seg, restricted=False, every=not sized),
            "jaccard@k, median, share with no common neighbour and 95% intervals of every "
            "figure are in the JSON (pair_segments)",
        ],
        text=(1,),
        group_ends=ends,
    )


def _not_run(key: str, seg: Mapping[str, Any], title: str) -> Table:
    return make_table(key, title, ["segment"], notes=[f"{seg['status']}: {seg.get('reason')}"])


def segment_tables(kind: str, doc: Mapping[str, Any]) -> list[Table]:
    """The ``segments`` part of a hits, oracle, overlap or compare document (and compare's
    ``pair_segments``)."""
    tables: list[Table] = []
    seg = doc.get("segments")
    if isinstance(seg, Mapping):
        if "status" in seg:
            tables.append(_not_run(f"{kind}.segments", seg, f"By segment of {seg.get('column')}"))
        elif kind == "overlap":
            tables.append(_overlap_segments(doc, seg))
        else:
            tables.append(_user_segments(kind, doc, seg))
    pairs = doc.get("pair_segments") if kind == "compare" else None
    if isinstance(pairs, Mapping):
        title = f"Neighbour overlap@k of each pair by segment of {pairs.get('column')}"
        if "status" in pairs:
            tables.append(_not_run("compare.pair_segments", pairs, title))
        else:
            tables.append(_pair_segments(doc, pairs))
    return tables


def extra_tables(kind: str, doc: Mapping[str, Any]) -> list[Table]:
    """Diversity then segments, for the kinds that have them."""
    if kind == "align":
        return diversity_tables(kind, doc)
    if kind not in ("hits", "oracle", "overlap", "compare"):
        return []
    return diversity_tables(kind, doc) + segment_tables(kind, doc)
