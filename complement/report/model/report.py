"""The ``complement.report/1`` document: its sections in order, their titles and leads, the
key figures for the top of a page, and the provenance tables.

Each section is a single command's document without its ``provenance`` (or
``{"status": "not run", "reason": ...}``), so its tables come from the same builders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.headline import headline_k
from complement.report.model.common import get, ks
from complement.report.model.dispatch import BUILDERS, is_not_run, section_tables
from complement.report.model.fmt import MISSING, count, fmt, param, pct
from complement.report.model.gate import gate_subtitle
from complement.report.model.table import Table, make_table

__all__ = [
    "SECTION_LEADS",
    "SECTION_ORDER",
    "SECTION_TITLES",
    "headline",
    "not_run_reason",
    "provenance_tables",
    "report_sections",
    "report_tables",
    "subtitle",
]

#: the report's sections in the order they are shown
SECTION_ORDER = ("overlap", "hits", "oracle", "probe", "structure")

#: a heading per document kind (without the kind's own name, which renderers add)
SECTION_TITLES = {
    "overlap": "Item-level neighbour agreement",
    "hits": "User-level complementarity",
    "oracle": "Oracle bounds on choosing among the two lists, and practical fusion",
    "probe": "Alignment probes under distribution shift",
    "structure": "Shared and private structure (CCA)",
    "explain": "Nearest neighbours of one item",
    "align": "Alignment strategies on warm and cold items",
    "gate": "Gate: regressions against a baseline",
}

SECTION_LEADS = {
    "overlap": "For each item, how many of its k nearest neighbours in the semantic view are "
    "also among its k nearest in the collaborative view. Chance is k/(n−1).",
    "hits": "Each view ranks every item for each user (history excluded); a hit is a test "
    "item in the top K. Hits found by only one view are what fusion could add.",
    "oracle": "Upper bounds on what choosing among the two views' top-K lists could reach "
    "(oracle; a fusion that ranks other items, such as score interpolation, can exceed them), "
    "against what practical fusion methods reach, with paired tests against the best single "
    "view.",
    "probe": "A map fitted from one view to the other on training items and scored on "
    "held-out items: under a random split, and under a distribution shift.",
    "structure": "Canonical correlation analysis of the two views against a permutation "
    "null: how many dimensions the views share, and which items are private to one view.",
    "explain": "The item's nearest neighbours in each view; those found by both are marked.",
    "align": "Strategies trained to align the views, evaluated on warm items and on items "
    "held out of training (cold), against the single views, fusion and the oracle (which "
    "bounds choosing among the two views' lists only: a fusion or strategy may exceed it).",
    "gate": "Each rule's figure in the baseline and the current report, and its verdict.",
}


def report_sections(doc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``(name, section)`` for every known section the report holds, in display order."""
    listed = doc.get("sections")
    order = [n for n in listed if n in BUILDERS] if isinstance(listed, Mapping) else []
    order += [n for n in SECTION_ORDER if n not in order]
    return [(n, doc[n]) for n in order if n in doc]


def not_run_reason(sec: Any) -> str:
    """``not run: <reason>`` for a skipped section."""
    reason = sec.get("reason") if isinstance(sec, Mapping) else None
    return f"not run: {reason if reason else 'no reason given'}"


def report_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Every section's tables one after the other; a skipped section as a note-only table."""
    tables: list[Table] = []
    for name, sec in report_sections(doc):
        if is_not_run(sec):
            tables.append(
                make_table(f"{name}.not_run", SECTION_TITLES[name], [], notes=[not_run_reason(sec)])
            )
        else:
            tables += section_tables(name, sec)
    return tables


def _ok(doc: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    sec = doc.get(name)
    return None if is_not_run(sec) else sec


def headline(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The report's key figures (label, value), each at the headline cut-off."""
    items: list[tuple[str, str]] = []
    ov = _ok(doc, "overlap")
    k = headline_k(ks(ov)) if ov is not None else None
    if ov is not None and k is not None:
        row = get(ov, "k", str(k)) or {}
        overlap, chance = row.get("overlap"), row.get("chance")
        ratio = overlap / chance if isinstance(overlap, float) and chance else None
        items.append((f"overlap@{k}", f"{fmt(overlap)} ({fmt(ratio, 1)}× chance)"))
        items.append(("linear CKA", fmt(ov.get("cka_linear"))))
    hits = _ok(doc, "hits")
    k = headline_k(ks(hits)) if hits is not None else None
    if hits is not None and k is not None:
        row = get(hits, "k", str(k)) or {}
        items.append(
            (
                f"recall@{k} semantic / collaborative",
                f"{fmt(get(row, 'recall', 'semantic'))} / "
                f"{fmt(get(row, 'recall', 'collaborative'))}",
            )
        )
        items.append((f"complementary ratio@{k}", fmt(row.get("complementary_ratio"))))
    oracle = _ok(doc, "oracle")
    k = headline_k(ks(oracle)) if oracle is not None else None
    if oracle is not None and k is not None:
        items.append((f"oracle budget gain@{k}", pct(get(oracle, "k", str(k), "gain", "budget"))))
    probe = _ok(doc, "probe")
    linear = get(probe, "capacities", "linear")
    if probe is not None and isinstance(linear, Mapping):
        kind = get(probe, "shift", "kind")
        label = "linear probe test R² random" + (f" / {kind}" if kind != "random" else "")
        random_r2 = get(linear, "random_test", "r2")
        if probe.get("gap_reason"):  # no random reference: its R² is not the shift's
            value = MISSING
        else:
            value = fmt(get(linear, "test", "r2") if random_r2 is None else random_r2)
        if kind != "random":
            value += f" / {fmt(get(linear, 'test', 'r2'))}"
        items.append((label, value))
    structure = _ok(doc, "structure")
    if structure is not None:
        items.append(("shared dimension", count(structure.get("shared_dim"))))
    return items


def subtitle(doc: Mapping[str, Any]) -> str:
    """``1682 items · split user-temporal · complement 0.1.0``."""
    if doc.get("schema") == "complement.gate/1":
        return gate_subtitle(doc)  # the gate has no provenance: the compared reports' facts
    prov = doc.get("provenance") or {}
    split = prov.get("split") or {}
    n_items = prov.get("n_items", doc.get("n_items"))
    version = prov.get("complement_version") or doc.get("complement_version") or ""
    return f"{count(n_items)} items · split {split.get('kind', 'none')} · complement {version}"


def _short(value: Any, n: int = 16) -> str:
    text = "" if value is None else str(value)
    return MISSING if not text else (text[:n] + "…" if len(text) > n else text)


def provenance_tables(doc: Mapping[str, Any]) -> list[Table]:
    """The run's facts, the wall time per step and the input files with their checksums."""
    prov = doc.get("provenance")
    if not isinstance(prov, Mapping):
        return []
    split = prov.get("split") or {}
    split_text = (
        f"{param(split.get('kind'))} (cutoff {param(split.get('cutoff'))}, test_frac "
        f"{param(split.get('test_frac'))})"
        if split
        else "none (no log)"
    )
    retrieval = prov.get("retrieval")
    facts = [
        ["complement", str(prov.get("complement_version", ""))],
        ["items (shared universe)", count(prov.get("n_items"))],
        ["item universe sha256", _short(prov.get("item_universe_sha256"))],
        ["split", split_text],
        ["seed", count(get(prov, "seeds", "seed"))],
        ["retrieval", " / ".join(str(v) for v in retrieval.values())
         if isinstance(retrieval, Mapping) else MISSING],
        ["config", str(get(prov, "config", "config_file") or "flags only")],
    ]  # fmt: skip
    tables = [make_table("provenance.run", "Run", ["", ""], facts, text=(0, 1))]
    timings = doc.get("timings")
    if isinstance(timings, Mapping) and timings:
        tables.append(
            make_table(
                "provenance.timings",
                "Wall time",
                ["step", "seconds"],
                [[str(step), fmt(sec, 2)] for step, sec in timings.items()],
            )
        )
    inputs = prov.get("inputs")
    if isinstance(inputs, Mapping) and inputs:
        tables.append(
            make_table(
                "provenance.inputs",
                "Input files",
                ["role", "path", "shape", "sha256"],
                [
                    [
                        str(role),
                        str(get(info, "path") or ""),
                        MISSING if get(info, "shape") is None else str(get(info, "shape")),
                        _short(get(info, "sha256")),
                    ]
                    for role, info in inputs.items()
                ],  # fmt: skip
                text=(0, 1, 2, 3),
            )
        )
    return tables
