"""Evaluation of trained strategies beside the raw views and the fusions, setting by setting.

Definitions (fixed; see :mod:`complement.core.align` and docs/definitions.md):

- A cold item has no collaborative row: wherever complement align uses C (the raw
  collaborative view, the fusions, the oracle), a cold item's C row is replaced by its ridge
  prediction from S fitted on the warm items (α = 1).
- Settings, each at K = 20 with full ranking of its candidates (history excluded):
  ``warm``: targets = warm test items, candidates = warm items; ``cold``: targets = cold test
  items, candidates = cold items; ``cold_all``: targets = cold test items, candidates = all.
- Every system of a setting (the two views, the fusions, each trained system) is scored on the
  same users, with intervals from the same resamples and paired tests against the best single
  view (:func:`complement.core.oracle_tables.oracle_from_lists`). Alpha of score interpolation
  is tuned once on the validation phase (or fixed). A trained system's row is its first seed's
  list; its seeds, their mean and sd and the pooled test are :mod:`~.align_seeds`; every
  p-value of the document is Holm-adjusted as one family (``p_holm``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.align_hits import VIEWS, StrategyHits, strategy_hits
from complement.core.align_protocol import IntArray, K, Protocol, candidate_subset
from complement.core.align_seeds import SeedSummary, holm_family, seed_summary
from complement.core.align_training import Tuned
from complement.core.evaluation import EvalData, restrict_targets
from complement.core.fusion import CosineViews, choose_alpha, fused_lists, score_views
from complement.core.oracle_tables import OracleAtK, oracle_from_lists
from complement.core.ranking import user_queries
from complement.core.rerank import Reranker, fit_reranker
from complement.core.strategies.common import ridge_map
from complement.errors import UsageError
from complement.retrieval import Backend, user_topk

__all__ = ["SETTINGS", "SettingLists", "SettingResult", "evaluate_alignment", "impute_cold"]

RIDGE_ALPHA = 1.0
SETTINGS = ("warm", "cold", "cold_all")


@dataclass(frozen=True)
class SettingLists:
    """The ranked lists behind one setting's table (candidate index space of ``ev``).

    ``lists``: every system's top-K by its JSON name (views, fusions, trained systems' first
    seed); ``scores``: the score of each slot where kept (views and trained systems);
    ``index[j]``: the item index of candidate ``j``.
    """

    ev: EvalData
    index: IntArray
    lists: dict[str, IntArray]
    scores: dict[str, npt.NDArray[np.float64]]


@dataclass(frozen=True)
class SettingResult:
    """One evaluation setting: the side-by-side table, each strategy's hits and seeds."""

    name: str
    n_candidates: int
    n_users: int
    n_targets: int
    table: OracleAtK | None
    hits: dict[str, dict[str, StrategyHits]]
    skipped: str | None = None
    seeds: dict[str, SeedSummary] = field(default_factory=dict)
    p_holm: dict[str, float] = field(default_factory=dict)
    ranked: SettingLists | None = field(default=None, repr=False, compare=False)

    def p_values(self) -> dict[str, float]:
        """``p`` of every tested system: a fusion's own test, a trained system's pooled one."""
        if self.table is None:
            return {}
        out = {}
        for name, f in self.table.fusion.items():
            if name in self.seeds:
                out[name] = self.seeds[name].test.p_value
            elif f.test is not None:
                out[name] = f.test.p_value
        return out

    def to_dict(self) -> dict[str, Any]:
        if self.table is None:
            return {"n_candidates": self.n_candidates, "skipped": self.skipped}
        table = self.table.to_dict()
        p = self.p_values()
        for name, row in table["fusion"].items():
            if name in self.seeds:
                row.update(self.seeds[name].to_dict())
            row["p"] = p.get(name)
            row["p_holm"] = self.p_holm.get(name)
        return {
            "n_candidates": self.n_candidates,
            "n_users": self.n_users,
            "n_targets": self.n_targets,
            "skipped": None,
            **table,
            "strategy_hits": {
                m: {v: h.to_dict() for v, h in per.items()} for m, per in self.hits.items()
            },
        }


def impute_cold(
    sem: npt.NDArray[Any], cf: npt.NDArray[Any], cold: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float32]:
    """C with the cold rows replaced by their ridge prediction from S (fit on warm items)."""
    out = np.array(cf, dtype=np.float32)
    if cold.any():
        s = np.asarray(sem, dtype=np.float32)
        out[cold] = ridge_map(s[~cold], out[~cold], s[cold], alpha=RIDGE_ALPHA)
    return out


def _sub_cosine(cv: CosineViews, rows: IntArray, index: IntArray) -> CosineViews:
    return CosineViews(
        sem_queries=np.ascontiguousarray(cv.sem_queries[rows]),
        cf_queries=np.ascontiguousarray(cv.cf_queries[rows]),
        items=np.ascontiguousarray(cv.items[index]),
    )


def _setting(
    name: str,
    protocol: Protocol,
    sem: npt.NDArray[Any],
    cf: npt.NDArray[np.float32],
    queries: Mapping[str, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]],
    cv: CosineViews,
    trained: Mapping[str, Tuned],
    backend: Backend,
    *,
    alpha: float,
    rrf_depth: int,
    n_boot: int,
    seed: int,
    gate: Reranker | None = None,
) -> SettingResult:
    ev = protocol.test
    if name == "cold_all":
        candidates = np.ones(ev.n_items, dtype=bool)
    else:
        candidates = protocol.warm if name == "warm" else protocol.cold
    n_cand = int(candidates.sum())
    if n_cand <= K:
        return SettingResult(
            name, n_cand, 0, 0, None, {}, f"only {n_cand} candidate items; at least {K + 1} needed"
        )
    if name == "cold_all":
        rows, sub = restrict_targets(ev, protocol.cold)
        index = np.arange(ev.n_items, dtype=np.int64)
    else:
        rows, sub, index = candidate_subset(ev, candidates)
    if sub.n_users == 0:
        return SettingResult(name, n_cand, 0, 0, None, {}, "no evaluated user has such a target")
    depth = max(K, min(rrf_depth, n_cand - 1))
    items_of = {"semantic": sem, "collaborative": cf}
    view_lists: dict[str, IntArray] = {}
    scores: dict[str, npt.NDArray[np.float64]] = {}
    for v in VIEWS:
        q, scale = queries[v]
        view_lists[v], view_scores = user_topk(
            np.ascontiguousarray(q[rows]),
            np.ascontiguousarray(np.asarray(items_of[v], dtype=np.float32)[index]),
            depth,
            backend,
            history=sub.history,
            item_scale=None if scale is None else scale[index],
        )
        scores[v] = np.asarray(view_scores[:, :K], dtype=np.float64)
    scv = _sub_cosine(cv, rows, index)
    fused: dict[str, IntArray] = fused_lists(
        sub, scv, view_lists, K, backend, alpha=alpha, gate=gate
    )
    hits: dict[str, dict[str, StrategyHits]] = {}
    per_seed: dict[str, list[IntArray]] = {}
    for m, tuned in trained.items():
        per_seed[m] = []
        for t in tuned.runs:
            q = np.ascontiguousarray(t.users[sub.users], dtype=np.float32)
            lists, s = user_topk(
                q, np.ascontiguousarray(t.items[index]), K, backend, history=sub.history
            )
            per_seed[m].append(lists)
            if len(per_seed[m]) == 1:
                scores[m] = np.asarray(s, dtype=np.float64)
        fused[m] = per_seed[m][0]
        hits[m] = strategy_hits(sub, fused[m], view_lists, K, n_boot=n_boot, seed=seed)
    table = oracle_from_lists(
        sub, view_lists, {K: fused}, [K], alpha={K: alpha}, n_boot=n_boot, seed=seed, groups=False
    )[K]
    best = table.best_single
    seeds = {
        m: seed_summary(
            sub,
            per_seed[m],
            [int(t.hyper["seed"]) for t in tuned.runs],
            view_lists[best],
            best,
            n_boot=n_boot,
            seed=seed,
        )
        for m, tuned in trained.items()
    }
    lists_k = {**{v: view_lists[v][:, :K] for v in VIEWS}, **fused}
    return SettingResult(
        name=name,
        n_candidates=n_cand,
        n_users=sub.n_users,
        n_targets=int(sub.n_targets.sum()),
        table=table,
        hits=hits,
        seeds=seeds,
        ranked=SettingLists(ev=sub, index=index, lists=lists_k, scores=scores),
    )


def evaluate_alignment(
    protocol: Protocol,
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    trained: Mapping[str, Tuned],
    backend: Backend,
    *,
    sem_users: npt.NDArray[Any] | None = None,
    cf_users: npt.NDArray[Any] | None = None,
    rrf_depth: int = 200,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float | None = None,
) -> tuple[float, dict[str, SettingResult]]:
    """Alpha (``alpha``, else tuned on validation) and the three settings' results."""
    if rrf_depth < K:
        raise UsageError(f"--rrf-depth {rrf_depth} is smaller than K = {K}; raise it")
    cf_eval = impute_cold(sem, cf, protocol.cold)
    ev = protocol.test
    queries = {
        "semantic": user_queries(ev, sem, user_vectors=sem_users),
        "collaborative": user_queries(ev, cf_eval, user_vectors=cf_users),
    }
    cv = score_views(ev, sem, cf_eval, sem_users=sem_users, cf_users=cf_users)
    cv_valid = score_views(protocol.valid, sem, cf_eval, sem_users=sem_users, cf_users=cf_users)
    search = choose_alpha(protocol.valid, cv_valid, [K], backend, fixed=alpha)
    alpha = search.alpha[K]
    gate = fit_reranker(protocol.valid, cv_valid, search.view_lists, K)
    results = {
        name: _setting(
            name,
            protocol,
            sem,
            cf_eval,
            queries,
            cv,
            trained,
            backend,
            alpha=alpha,
            rrf_depth=rrf_depth,
            n_boot=n_boot,
            seed=seed,
            gate=gate,
        )
        for name in SETTINGS
    }
    family = {(n, m): p for n, r in results.items() for m, p in r.p_values().items()}
    adjusted = holm_family(family)
    results = {
        n: replace(r, p_holm={m: adjusted[(n, m)] for m in r.p_values()})
        for n, r in results.items()
    }
    return alpha, results
