"""How much fusing the two views could gain (oracle bounds), and how much practical fusion gets.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``), on top of
those of :mod:`complement.core.evaluation` and :mod:`complement.core.fusion`:

- ``union@K = |(R_S ∪ R_C) ∩ T_u| / |T_u|``: the paper's bound (a list of up to 2K items).
- ``budget@K = min(K, |(R_S ∪ R_C) ∩ T_u|) / |T_u|``: the best list of K items drawn from both.
- ``select@K = max(Recall_S(u), Recall_C(u))``: the better view chosen per user.
- Each is a mean over users. ``best_single``: the view with the higher mean Recall@K (ties:
  semantic); ``gain = (bound − best_single) / best_single``.
- Fusion methods are evaluated like a view (Recall@K, NDCG@K);
  ``headroom = (fused − best_single) / (budget − best_single)`` on mean Recall@K (null when the
  budget bound equals the best single view); the paired test compares per-user Recall@K of the
  fused list with the best single view's (paired bootstrap over users: ``ci95_diff`` and a
  two-sided ``p_value``).
- Groups: everything again with ``T_u`` restricted to the test items of one popularity group
  (best single view chosen within the group).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, check_ks
from complement.core.fusion import (
    ALPHA_GRID,
    AlphaSearch,
    choose_alpha,
    cosine_views,
    interpolation_ranked,
    norm_concat_norm_ranked,
    rrf_ranked,
)
from complement.core.hits import scoring_name
from complement.core.oracle_tables import OracleAtK, oracle_from_lists
from complement.core.ranking import user_queries
from complement.errors import UsageError
from complement.retrieval import Backend, get_backend, user_topk

__all__ = ["DEFINITIONS", "FUSIONS", "OracleResult", "complement_oracle"]

FUSIONS = ("norm_concat_norm", "score_interpolation", "rrf")

DEFINITIONS = {
    "union": "|(R_S ∪ R_C) ∩ T_u| / |T_u| (a list of up to 2K items), mean over users",
    "budget": "min(K, |(R_S ∪ R_C) ∩ T_u|) / |T_u| (K items drawn from both lists), mean over "
    "users",
    "select": "max(Recall_S(u), Recall_C(u)) (the better view per user), mean over users",
    "best_single": "the view with the higher mean Recall@K (ties: semantic)",
    "gain": "(bound - best_single) / best_single, on mean Recall@K",
    "headroom": "(fused - best_single) / (budget - best_single) on mean Recall@K; null when "
    "budget = best_single",
    "paired_test": "per-user Recall@K of the fused list minus that of the best single view; "
    "ci95_diff: 95% paired bootstrap interval of the mean difference over users (seeded); "
    "p_value: two-sided, 2 * min(P*(mean <= 0), P*(mean >= 0)) with the +1 correction",
    "groups": "everything again with T_u restricted to the test items of one popularity group "
    "(cold = bottom 60% of items by history count, mid = next 20%, hot = top 20%); best single "
    "view chosen within the group; fusion there without the paired test",
    "validation_user_vectors": "user embedding files are used as given when tuning alpha on the "
    "validation phase; if they were trained on validation rows the tuning favours that view",
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class OracleResult:
    n_users: int
    n_items: int
    n_targets: int
    scoring: dict[str, str]
    rrf_depth: int
    n_boot: int
    seed: int
    alpha_search: AlphaSearch | None
    per_k: dict[int, OracleAtK]
    lists: dict[str, npt.NDArray[np.int64]] = field(repr=False, default_factory=dict)
    #: the fused lists evaluated at each K (score_interpolation at that K's alpha)
    fused_per_k: dict[int, dict[str, npt.NDArray[np.int64]]] = field(
        repr=False, default_factory=dict
    )
    #: the score of each slot of ``lists[name]`` and of ``fused_per_k[max K][name]``
    scores: dict[str, npt.NDArray[np.float64]] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_targets": self.n_targets,
            "scoring": dict(self.scoring),
            "rrf_depth": self.rrf_depth,
            "n_boot": self.n_boot,
            "seed": self.seed,
            "alpha_search": None if self.alpha_search is None else self.alpha_search.to_dict(),
            "k": {str(k): v.to_dict() for k, v in sorted(self.per_k.items())},
        }


def complement_oracle(
    ev: EvalData,
    ev_valid: EvalData,
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    ks: Sequence[int] = (10, 20, 50),
    backend: Backend | None = None,
    *,
    sem_users: npt.NDArray[Any] | None = None,
    cf_users: npt.NDArray[Any] | None = None,
    rrf_depth: int = 200,
    n_boot: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
) -> OracleResult:
    """Rank both views and the three fusions on test; tune alpha on ``ev_valid`` only."""
    backend = backend if backend is not None else get_backend()
    ks = check_ks(ks, ev.n_items)
    kmax = max(ks)
    if rrf_depth < kmax:
        raise UsageError(
            f"--rrf-depth {rrf_depth} is smaller than the largest k ({kmax}); raise it to at "
            f"least {kmax}"
        )
    depth = min(rrf_depth, ev.n_items - 1)  # every user has >= 1 excluded item: exact
    total = 4 + len(ALPHA_GRID) + len(ks)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done, total), total)

    views: dict[str, npt.NDArray[np.int64]] = {}
    scores: dict[str, npt.NDArray[np.float64]] = {}
    for name, items, users in (("semantic", sem, sem_users), ("collaborative", cf, cf_users)):
        q, scale = user_queries(ev, items, user_vectors=users)
        check_ks([depth], ev.n_items)
        views[name], score = user_topk(
            q, items, depth, backend, history=ev.history, item_scale=scale
        )
        scores[name] = np.asarray(score, dtype=np.float64)
        step()
    cv = cosine_views(ev, sem, cf, sem_users=sem_users, cf_users=cf_users)
    ncn, scores["norm_concat_norm"] = norm_concat_norm_ranked(ev, cv, kmax, backend)
    step()
    rrf, scores["rrf"] = rrf_ranked(views["semantic"], views["collaborative"], kmax)
    step()
    cv_valid = cosine_views(ev_valid, sem, cf, sem_users=sem_users, cf_users=cf_users)
    search = choose_alpha(ev_valid, cv_valid, ks, backend)
    done += len(ALPHA_GRID)
    step()
    interp: dict[float, npt.NDArray[np.int64]] = {}
    for alpha in sorted(set(search.alpha.values())):
        interp[alpha], interp_scores = interpolation_ranked(ev, cv, alpha, kmax, backend)
        if alpha == search.alpha[kmax]:
            scores["score_interpolation"] = interp_scores
        step()
    fused_per_k = {
        k: {
            "norm_concat_norm": ncn,
            "score_interpolation": interp[search.alpha[k]],
            "rrf": rrf,
        }
        for k in ks
    }
    per_k = oracle_from_lists(
        ev, views, fused_per_k, ks, alpha=search.alpha, n_boot=n_boot, seed=seed
    )
    if progress is not None:
        progress(total, total)
    return OracleResult(
        n_users=ev.n_users,
        n_items=ev.n_items,
        n_targets=int(ev.n_targets.sum()),
        scoring={
            "semantic": scoring_name(sem_users is not None),
            "collaborative": scoring_name(cf_users is not None),
        },
        rrf_depth=depth,
        n_boot=n_boot,
        seed=seed,
        alpha_search=search,
        per_k=per_k,
        lists={**views, "norm_concat_norm": ncn, "rrf": rrf},
        fused_per_k=fused_per_k,
        scores=scores,
    )
