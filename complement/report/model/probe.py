"""Tables of a ``complement.probe/1`` document: one row per probe capacity.

R² (train, test, their difference, per-dimension), the gap to the random split, cosine, GeoJac
and Spearman on the test items; then Recall on the test items with true vs mapped item vectors,
the Jaccard of the two top-k lists and the drop (relative only above the RecTrue floor). The
shift, the protocol, the meaning of the columns and how each capacity was fitted are notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.common import get, name
from complement.report.model.fmt import MISSING, count, fmt, param, pct, sig, signed
from complement.report.model.table import Table, make_table

__all__ = ["BELOW_FLOOR", "fit_note", "probe_tables", "protocol_line", "shift_line"]

_SHIFT_OWN = ("kind", "n_train", "n_test", "seed")
#: marks an absolute drop shown where RecTrue is below the floor of the relative drop
BELOW_FLOOR = "†"


def shift_line(shift: Any) -> str:
    """``shift popularity: 1346 train items, 336 test items (tail frac 0.2; ...)``."""
    if not isinstance(shift, Mapping):
        return "shift: –"
    extra = "; ".join(
        f"{k.replace('_', ' ')} {param(v)}"
        for k, v in shift.items()
        if k not in _SHIFT_OWN and v is not None
    )
    return (
        f"shift {shift.get('kind')}: {count(shift.get('n_train'))} train items, "
        f"{count(shift.get('n_test'))} test items" + (f" ({extra})" if extra else "")
    )


def fit_note(capacity: str, fit: Any) -> str:
    """``linear α 3.16 (CV)`` or ``mlp1 best epoch 18 of 28``."""
    if not isinstance(fit, Mapping):
        return capacity
    if fit.get("alpha") is not None:
        note = f"α {sig(fit['alpha'], 3)}" + (" (CV)" if fit.get("alpha_source") == "cv5" else "")
        if fit.get("alpha_at_grid_edge"):
            note += " at the grid's edge"
        rank = f", rank {count(fit['rank'])}" if fit.get("rank") is not None else ""
        return f"{capacity} {note}{rank}"
    if fit.get("early_stop") is False:
        return f"{capacity} {count(fit.get('epochs_run'))} epochs (no early stopping)"
    return f"{capacity} best epoch {count(fit.get('best_epoch'))} of {count(fit.get('epochs_run'))}"


def protocol_line(protocol: Any) -> str | None:
    """``protocol: MLPs 400 fixed epochs on all training items (no holdout); raw rows``."""
    if not isinstance(protocol, Mapping):
        return None
    parts = []
    if protocol.get("early_stop") is False:
        parts.append(
            f"MLPs {count(protocol.get('epochs'))} fixed epochs on all training items (no "
            "holdout, last weights)"
        )
    if protocol.get("raw"):
        parts.append("raw rows (no L2 normalisation)")
    return "protocol: " + "; ".join(parts) if parts else None


def _capacities(doc: Mapping[str, Any]) -> Table:
    caps = doc.get("capacities") or {}
    kind = get(doc, "shift", "kind")
    random = kind == "random"
    geojac_k = next((get(c, "test", "geojac_k") for c in caps.values()), None) or 20
    headers = ["capacity", "train R²", *([] if random else ["random R²"]), "test R²",
               "train − test", "unif R²", "gap", "cosine", f"GeoJac@{count(geojac_k)}",
               "ρ"]  # fmt: skip
    rows = [
        [
            str(cap_name),
            fmt(get(cap, "train", "r2")),
            *([] if random else [fmt(get(cap, "random_test", "r2"))]),
            fmt(get(cap, "test", "r2")),
            signed(get(cap, "train_test_gap", "r2")),
            fmt(get(cap, "test", "r2_uniform")),
            MISSING if random else signed(get(cap, "gap", "r2")),
            fmt(get(cap, "test", "cosine")),
            fmt(get(cap, "test", "geojac")),
            fmt(get(cap, "test", "spearman")),
        ]
        for cap_name, cap in caps.items()
    ]
    ref = doc.get("reference_shift") or {}
    notes = [
        shift_line(doc.get("shift")),
        "columns after train R² are on the test items; train − test = train R² minus test R² "
        "(how much better the fit is on the items it was fitted on); unif R² = per-dimension "
        f"mean (the paper's); GeoJac@{count(geojac_k)}; ρ = Spearman of similarities to anchors",
    ]
    protocol = protocol_line(doc.get("protocol"))
    if protocol is not None:
        notes.append(protocol)
    if doc.get("gap_reason"):  # the random reference could not be formed: no gap
        notes.append(f"random R² and gap: not computed: {doc['gap_reason']}")
    elif not random:
        notes.append(
            f"gap = test R² under {kind} minus test R² under random "
            f"({count(ref.get('n_train'))} train / {count(ref.get('n_test'))} test items)"
        )
    notes.append("fit: " + "; ".join(fit_note(str(n), get(c, "fit")) for n, c in caps.items()))
    direction = doc.get("direction")
    return make_table(
        "probe.capacities",
        f"Alignment probes, {name(direction)}",
        headers,
        rows,
        notes=notes,
    )


def _rec(doc: Mapping[str, Any]) -> Table | None:
    rec = doc.get("rec")
    caps = doc.get("capacities") or {}
    if not isinstance(rec, Mapping) or not caps:
        return None
    k = count(rec.get("k"))
    rows = [
        [
            str(cap_name),
            fmt(cap.get("rec_true"), 4),
            fmt(cap.get("rec_mapped"), 4),
            fmt(cap.get("rec_jaccard")),
            _drop(cap),
        ]
        for cap_name, cap in caps.items()
    ]
    floor = rec.get("drop_pct_floor")
    notes = [
        f"{count(rec.get('n_users'))} users, {count(rec.get('n_targets'))} test interactions on "
        "the shift's test items; all items ranked, train history masked; Rec Jaccard = mean "
        f"Jaccard of each user's top-{k} lists with true vs mapped item vectors; drop = "
        "(RecTrue − RecMapped) / RecTrue"
        + (f" where RecTrue ≥ {fmt(floor, 2)}" if floor is not None else "")
    ]
    if any(cap.get("drop_below_floor") for cap in caps.values()):
        notes.append(
            f"{BELOW_FLOOR} RecTrue below {fmt(floor, 2)}: a ratio to so small a base is noise, "
            "so the absolute drop RecTrue − RecMapped is shown instead"
        )
    return make_table(
        "probe.rec",
        f"Recall@{k} on the test items: true vs mapped item vectors",
        ["capacity", "RecTrue", "RecMapped", "Rec Jaccard", "drop"],
        rows,
        notes=notes,
    )


def _drop(cap: Mapping[str, Any]) -> str:
    """The relative drop, or the absolute one marked where RecTrue is below the floor."""
    if cap.get("drop_below_floor") and cap.get("drop_abs") is not None:
        return f"{signed(cap['drop_abs'], 4)} {BELOW_FLOOR}"
    return pct(None if cap.get("drop_pct") is None else cap["drop_pct"] / 100)


def probe_tables(doc: Mapping[str, Any]) -> list[Table]:
    """The capacities table and, when user vectors were given, RecTrue / RecMapped."""
    tables = [_capacities(doc)]
    rec = _rec(doc)
    if rec is None:
        tables[0] = tables[0].with_notes(
            "RecTrue / RecMapped: not computed (needs target-view user embeddings)"
        )
    else:
        tables.append(rec)
    return tables
