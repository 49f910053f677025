"""The noise ceiling: each S–C figure beside the same figure between a view and its replicate.

A replicate is the same model trained again (another seed, another encoder run):
``cf_replicate`` for the collaborative view C, ``sem_replicate`` for the semantic view S, with
the view's own ids (``cf_ids`` / ``sem_ids``). How much C agrees with C′ is the most any other
view could be expected to agree with C, so "low agreement" between S and C is read against it:
``normalised = figure(S, C) / figure(V, V′)``.

The runners of ``overlap``, ``hits`` and ``structure`` call the functions here; each returns
the document's ``ceiling`` part, or None when no replicate is given (the document is then
exactly what it is without this module). Layout of ``ceiling``::

    {"collaborative": {"replicate": PATH, "pair": "C–C′",
                       "observed": {FIGURE: value of S–C},
                       "figures": {FIGURE: value of V–V′},
                       "ci95": {FIGURE: [lo, hi]} (where the figure has an interval),
                       "normalised": {FIGURE: observed / figures}},
     "semantic": {... the same for S–S′},
     "combined": {"normalised": {FIGURE: observed / √(S–S′ · C–C′)}}   (both replicates),
     "definitions": {...}}
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core import compare as compare_core
from complement.core import hits as hits_core
from complement.core import structure as structure_core
from complement.core.cka import debiased_cka
from complement.core.evaluation import EvalData
from complement.core.hits import HitsResult
from complement.core.overlap import OverlapResult
from complement.core.ranking import rank, user_queries
from complement.core.structure import StructureResult
from complement.errors import InputError
from complement.io.loaders import embeddings_from
from complement.io.views import map_ids, row_status
from complement.pipeline.context import Context

__all__ = [
    "DEFINITIONS",
    "REPLICATES",
    "ceiling_part",
    "hits_ceiling",
    "load_replicate",
    "overlap_ceiling",
    "replicates_given",
    "structure_ceiling",
]

#: view -> (data key of its replicate, the view's ids key, the view's name in pairs)
REPLICATES = {
    "semantic": ("sem_replicate", "sem_ids", "S"),
    "collaborative": ("cf_replicate", "cf_ids", "C"),
}

DEFINITIONS = {
    "replicate": "the same model trained again (another seed or encoder run): cf_replicate for "
    "the collaborative view C, sem_replicate for the semantic view S; rows matched to the "
    "joined items by the view's own ids (cf_ids / sem_ids); every joined item must have a "
    "finite (under cosine non-zero) replicate row",
    "observed": "the figure between S and C, as in the rest of this document",
    "figures": "the same figure between the view V and its replicate V′ (C–C′ or S–S′), "
    "computed exactly as the S–C one",
    "normalised": "observed / figures: the S–C figure as a share of the view's own "
    "reproducibility (null when the denominator is 0 or missing)",
    "combined": "with both replicates: observed / sqrt(S–S′ × C–C′), the correction for "
    "attenuation by the two views' reliabilities",
    "overlap": "overlap@k, jaccard@k (k-NN lists of V and V′ searched as complement overlap "
    "does), linear and debiased linear CKA; ci95: the overlap's bootstrap interval",
    "hits": "list_jaccard@K and complementary_ratio@K of the top-K lists of V and V′; both "
    "scored by cosine to the mean of the user's L2-normalised history items (the replicate has "
    "no user embeddings, so V is re-ranked that way when it has some)",
    "structure": "the replicate takes the place of the other view: (C′, C) for C, (S, S′) for "
    "S, same options; shared_dim, the first canonical correlation, variance_shared of V "
    "(variance_shared of the view V in both pairs), private_energy mean",
}

_CACHE: weakref.WeakKeyDictionary[Context, dict[str, npt.NDArray[Any]]] = (
    weakref.WeakKeyDictionary()
)


def ceiling_part(part: dict[str, Any] | None) -> dict[str, Any]:
    """``{"ceiling": part}`` for a runner's document, or nothing without a replicate (the
    document is then byte-identical to one made without this module)."""
    return {} if part is None else {"ceiling": part}


def replicates_given(ctx: Context) -> list[str]:
    """The views (``semantic``, ``collaborative``) that have a replicate in the settings."""
    return [v for v, (key, _, _) in REPLICATES.items() if ctx.settings.get(key) is not None]


def load_replicate(ctx: Context, view: str) -> npt.NDArray[Any]:
    """The replicate's rows of the joined items, in item-index order (read once per context)."""
    cached = _CACHE.setdefault(ctx, {})
    if view in cached:
        return cached[view]
    key, ids_key, _ = REPLICATES[view]
    settings = ctx.settings
    emb = embeddings_from(settings[key], settings.get(ids_key), role=f"{view} replicate")
    universe = ctx.views.ids
    rows = map_ids(emb.ids, universe)
    missing = rows < 0
    if missing.any():
        first = ", ".join(universe[missing][:5].tolist())
        raise InputError(
            f"{view} replicate {emb.path}: {int(missing.sum())} of the {universe.shape[0]} "
            f"joined items have no row (first ids: {first}); the replicate must cover every "
            f"item of the {view} view, with the same ids (--{ids_key.replace('_', '-')})"
        )
    matrix = np.ascontiguousarray(emb.matrix[rows], dtype=np.float32)
    nonfinite, zero = row_status(matrix, ctx.views.metric)
    if (nonfinite | zero).any():
        bad = nonfinite | zero
        first = ", ".join(universe[bad][:5].tolist())
        what = "NaN/infinite" if nonfinite.any() else "all-zero"
        raise InputError(
            f"{view} replicate {emb.path}: {int(bad.sum())} rows of joined items are {what} "
            f"(first ids: {first}); fix the replicate (its items are compared one to one)"
        )
    cached[view] = matrix
    return matrix


def _view_matrix(ctx: Context, view: str) -> npt.NDArray[Any]:
    return ctx.views.sem if view == "semantic" else ctx.views.cf


def _ratio(num: Any, den: Any) -> float | None:
    if num is None or den is None:
        return None
    top, bottom = float(num), float(den)
    if not (math.isfinite(top) and math.isfinite(bottom)) or bottom == 0:
        return None
    return top / bottom


def _block(
    ctx: Context,
    view: str,
    observed: Mapping[str, Any],
    figures: Mapping[str, Any],
    ci95: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    key, _, letter = REPLICATES[view]
    return {
        "replicate": str(ctx.settings[key]),
        "pair": f"{letter}–{letter}′",
        "observed": dict(observed),
        "figures": dict(figures),
        "ci95": dict(ci95 or {}),
        "normalised": {name: _ratio(observed.get(name), figures.get(name)) for name in figures},
    }


def _assemble(blocks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = dict(blocks)
    if len(blocks) == 2:
        sem, cf = blocks["semantic"], blocks["collaborative"]
        combined: dict[str, float | None] = {}
        for name, value in cf["observed"].items():
            if sem["observed"].get(name) != value or name not in sem["figures"]:
                continue  # the S–C figure differs between the two blocks: no common scale
            a, b = sem["figures"].get(name), cf["figures"].get(name)
            product = None if a is None or b is None else float(a) * float(b)
            root = math.sqrt(product) if product is not None and product > 0 else None
            combined[name] = _ratio(value, root)
        out["combined"] = {"normalised": combined}
    out["definitions"] = dict(DEFINITIONS)
    return out


# --------------------------------------------------------------------------------- overlap


def overlap_ceiling(ctx: Context, result: OverlapResult) -> dict[str, Any] | None:
    """overlap@k, jaccard@k and CKA of each view against its replicate (None: no replicate)."""
    given = replicates_given(ctx)
    if not given:
        return None
    views, settings = ctx.views, ctx.settings
    cosine = views.metric == "cosine"
    observed: dict[str, Any] = {}
    for k, row in sorted(result.per_k.items()):
        observed[f"overlap@{k}"] = row.overlap
        observed[f"jaccard@{k}"] = row.jaccard
    observed["cka_linear"] = result.cka_linear
    observed["cka_debiased"] = debiased_cka(views.sem, views.cf, cosine=cosine)
    blocks: dict[str, dict[str, Any]] = {}
    for view in given:
        letter = REPLICATES[view][2]
        with ctx.progress(f"overlap: {letter} against its replicate") as progress:
            pair = compare_core.compare_items(
                [_view_matrix(ctx, view), load_replicate(ctx, view)],
                [letter, letter + "′"],
                sorted(result.per_k),
                ctx.require_backend(),
                metric=views.metric,
                sample=settings["sample"],
                seed=settings["seed"],
                progress=progress,
            ).pairs[(letter, letter + "′")]
        figures: dict[str, Any] = {}
        ci95: dict[str, Any] = {}
        for k, at_k in sorted(pair.per_k.items()):
            figures[f"overlap@{k}"] = at_k.overlap
            figures[f"jaccard@{k}"] = at_k.jaccard
            ci95[f"overlap@{k}"] = list(at_k.ci95)
        figures["cka_linear"] = pair.cka_linear
        figures["cka_debiased"] = pair.cka_debiased
        blocks[view] = _block(ctx, view, observed, figures, ci95)
    return _assemble(blocks)


# ------------------------------------------------------------------------------------ hits


def _history_lists(
    ctx: Context, ev: EvalData, items: npt.NDArray[Any], kmax: int
) -> npt.NDArray[np.int64]:
    q, scale = user_queries(ev, items)
    return rank(ev, q, items, kmax, ctx.require_backend(), item_scale=scale)


def hits_ceiling(ctx: Context, result: HitsResult) -> dict[str, Any] | None:
    """List Jaccard and complementary ratio of each view's and its replicate's top-K lists."""
    given = replicates_given(ctx)
    if not given:
        return None
    ev = ctx.evaluation.test
    ks = sorted(result.per_k)
    kmax = max(ks)
    observed: dict[str, Any] = {}
    for k in ks:
        observed[f"list_jaccard@{k}"] = result.per_k[k].list_jaccard.value
        observed[f"complementary_ratio@{k}"] = result.per_k[k].complementary_ratio.value
    settings = ctx.settings
    blocks: dict[str, dict[str, Any]] = {}
    for view in given:
        has_users = (
            ctx.evaluation.sem_users is not None
            if view == "semantic"
            else (ctx.evaluation.cf_users is not None)
        )
        if has_users:  # the replicate has no user vectors: score both members alike
            own = _history_lists(ctx, ev, _view_matrix(ctx, view), kmax)
        else:
            own = result.sem_lists if view == "semantic" else result.cf_lists
        replica = _history_lists(ctx, ev, load_replicate(ctx, view), kmax)
        pair = hits_core.hits_from_lists(
            ev,
            own[:, :kmax],
            replica,
            ks,
            n_boot=settings["n_boot"],
            seed=settings["seed"],
            groups=False,
        )
        figures: dict[str, Any] = {}
        ci95: dict[str, Any] = {}
        for k in ks:
            row = pair.per_k[k]
            for name, est in (
                ("list_jaccard", row.list_jaccard),
                ("complementary_ratio", row.complementary_ratio),
            ):
                figures[f"{name}@{k}"] = est.value
                ci95[f"{name}@{k}"] = list(est.ci95)
        blocks[view] = _block(ctx, view, observed, figures, ci95)
        blocks[view]["scoring"] = hits_core.scoring_name(False)
    return _assemble(blocks)


# ------------------------------------------------------------------------------- structure


def _structure_figures(res: StructureResult, slot: int) -> dict[str, Any]:
    rho = res.canonical_correlations
    return {
        "shared_dim": res.shared_dim,
        "canonical_correlation_1": float(rho[0]) if rho.size else None,
        "variance_shared": res.variance_shared[slot],
        "private_energy_mean": float(res.energy.mean()),
    }


def structure_ceiling(ctx: Context, result: StructureResult) -> dict[str, Any] | None:
    """The structure figures of each view against its replicate (in the other view's slot)."""
    given = replicates_given(ctx)
    if not given:
        return None
    settings, views = ctx.settings, ctx.views
    blocks: dict[str, dict[str, Any]] = {}
    for view in given:
        replica = load_replicate(ctx, view)
        if view == "collaborative":
            first, second, slot = replica, views.cf, 1  # (C′, C): C keeps its slot
        else:
            first, second, slot = views.sem, replica, 0  # (S, S′): S keeps its slot
        pair = structure_core.shared_structure(
            first,
            second,
            max_dim=settings["max_dim"],
            permutations=settings["permutations"],
            direction=settings["direction"],
            alpha=settings["ridge_alpha"],
            seed=settings["seed"],
            ids=views.ids,
            titles=None,
        )
        blocks[view] = _block(
            ctx, view, _structure_figures(result, slot), _structure_figures(pair, slot)
        )
    return _assemble(blocks)
