"""Evaluation of trained strategies beside the raw views and the fusions, setting by setting.

Definitions (fixed; see :mod:`complement.core.align` and docs/definitions.md):

- A cold item has no collaborative row: wherever complement align uses C (the raw
  collaborative view, the fusions, the oracle), a cold item's C row is replaced by its ridge
  prediction from S fitted on the warm items (α = 1).
- Settings, each at K = 20 with full ranking of its candidates (history excluded):
  ``warm``: targets = warm test items, candidates = warm items; ``cold``: targets = cold test
  items, candidates = cold items; ``cold_all``: targets = cold test items, candidates = all.
- Every system of a setting (the two views, the three fusions, each strategy) is scored on the
  same users, with intervals from the same resamples and paired tests against the best single
  view (:func:`complement.core.oracle_tables.oracle_from_lists`). Alpha of score interpolation
  is tuned once on the validation phase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.align_hits import VIEWS, StrategyHits, strategy_hits
from complement.core.align_protocol import IntArray, K, Protocol, candidate_subset
from complement.core.evaluation import restrict_targets
from complement.core.fusion import (
    CosineViews,
    choose_alpha,
    cosine_views,
    interpolation_lists,
    norm_concat_norm_lists,
    rrf_lists,
)
from complement.core.oracle_tables import OracleAtK, oracle_from_lists
from complement.core.ranking import rank, user_queries
from complement.core.strategies import Trained
from complement.core.strategies.common import ridge_map
from complement.errors import UsageError
from complement.retrieval import Backend

__all__ = ["SETTINGS", "SettingResult", "evaluate_alignment", "impute_cold"]

RIDGE_ALPHA = 1.0
SETTINGS = ("warm", "cold", "cold_all")


@dataclass(frozen=True)
class SettingResult:
    """One evaluation setting: the side-by-side table and each strategy's hits."""

    name: str
    n_candidates: int
    n_users: int
    n_targets: int
    table: OracleAtK | None
    hits: dict[str, dict[str, StrategyHits]]
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.table is None:
            return {"n_candidates": self.n_candidates, "skipped": self.skipped}
        return {
            "n_candidates": self.n_candidates,
            "n_users": self.n_users,
            "n_targets": self.n_targets,
            "skipped": None,
            **self.table.to_dict(),
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
    trained: Mapping[str, Trained],
    backend: Backend,
    *,
    alpha: float,
    rrf_depth: int,
    n_boot: int,
    seed: int,
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
    for v in VIEWS:
        q, scale = queries[v]
        view_lists[v] = rank(
            sub,
            np.ascontiguousarray(q[rows]),
            np.ascontiguousarray(np.asarray(items_of[v], dtype=np.float32)[index]),
            depth,
            backend,
            item_scale=None if scale is None else scale[index],
        )
    scv = _sub_cosine(cv, rows, index)
    fused: dict[str, IntArray] = {
        "norm_concat_norm": norm_concat_norm_lists(sub, scv, K, backend),
        "score_interpolation": interpolation_lists(sub, scv, alpha, K, backend),
        "rrf": rrf_lists(view_lists["semantic"], view_lists["collaborative"], K),
    }
    hits: dict[str, dict[str, StrategyHits]] = {}
    for m, t in trained.items():
        q = np.ascontiguousarray(t.users[sub.users], dtype=np.float32)
        lists = rank(sub, q, np.ascontiguousarray(t.items[index]), K, backend)
        fused[m] = lists
        hits[m] = strategy_hits(sub, lists, view_lists, K, n_boot=n_boot, seed=seed)
    table = oracle_from_lists(
        sub, view_lists, {K: fused}, [K], alpha={K: alpha}, n_boot=n_boot, seed=seed, groups=False
    )[K]
    return SettingResult(
        name=name,
        n_candidates=n_cand,
        n_users=sub.n_users,
        n_targets=int(sub.n_targets.sum()),
        table=table,
        hits=hits,
    )


def evaluate_alignment(
    protocol: Protocol,
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    trained: Mapping[str, Trained],
    backend: Backend,
    *,
    sem_users: npt.NDArray[Any] | None = None,
    cf_users: npt.NDArray[Any] | None = None,
    rrf_depth: int = 200,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[float, dict[str, SettingResult]]:
    """Alpha (tuned on validation) and the three settings' results."""
    if rrf_depth < K:
        raise UsageError(f"--rrf-depth {rrf_depth} is smaller than K = {K}; raise it")
    cf_eval = impute_cold(sem, cf, protocol.cold)
    ev = protocol.test
    queries = {
        "semantic": user_queries(ev, sem, user_vectors=sem_users),
        "collaborative": user_queries(ev, cf_eval, user_vectors=cf_users),
    }
    cv = cosine_views(ev, sem, cf_eval, sem_users=sem_users, cf_users=cf_users)
    cv_valid = cosine_views(protocol.valid, sem, cf_eval, sem_users=sem_users, cf_users=cf_users)
    alpha = choose_alpha(protocol.valid, cv_valid, [K], backend).alpha[K]
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
        )
        for name in SETTINGS
    }
    return alpha, results
