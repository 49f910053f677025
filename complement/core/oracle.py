"""How much choosing among the two views' lists could gain (oracle bounds), and practical fusion.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``), on top of
those of :mod:`complement.core.evaluation` and :mod:`complement.core.fusion`:

- ``union@K = |(R_S ∪ R_C) ∩ T_u| / |T_u|``: the paper's bound (a list of up to 2K items).
- ``budget@K = min(K, |(R_S ∪ R_C) ∩ T_u|) / |T_u|``: the best list of K items drawn from both.
- ``select@K = max(Recall_S(u), Recall_C(u))``: the better view chosen per user.
- The bounds bound how well one can *choose among the two views' top-K lists*; a fusion that
  can rank items outside both lists (score interpolation, concat_fixed, a trained system) is
  not bounded by them, and ``exceeds_oracle`` names the bounds a fusion's mean Recall@K is
  above. (``gated`` re-ranks the union, so it stays below ``budget`` and ``union``.)
- Each is a mean over users. ``best_single``: the view with the higher mean Recall@K (ties:
  semantic); ``gain = (bound − best_single) / best_single``.
- Fusion methods are evaluated like a view (Recall@K, NDCG@K);
  ``headroom = (fused − best_single) / (budget − best_single)`` and
  ``headroom_select = (fused − best_single) / (select − best_single)`` on mean Recall@K (the
  share of that oracle's headroom the fusion captures; null when the bound equals the best
  single view); the paired test compares per-user Recall@K of the fused list with the best
  single view's (paired bootstrap over users: ``ci95_diff`` and a two-sided ``p_value``).
- Groups: everything again with ``T_u`` restricted to the test items of one popularity group
  (best single view chosen within the group).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, check_ks
from complement.core.fusion import (
    ALPHA_GRID,
    AlphaSearch,
    choose_alpha,
    concat_fixed_ranked,
    gated_ranked,
    interpolation_ranked,
    rrf_ranked,
    score_views,
)
from complement.core.hits import scoring_name
from complement.core.oracle_tables import OracleAtK, oracle_from_lists
from complement.core.rerank import Reranker, candidate_z, fit_reranker
from complement.core.validate import as_ks, check_matrix, check_views
from complement.errors import UsageError
from complement.retrieval import Backend, get_backend, user_topk
from complement.retrieval.pool import in_order

__all__ = ["DEFINITIONS", "FUSIONS", "OracleResult", "complement_oracle"]

FUSIONS = ("concat_fixed", "score_interpolation", "gated", "rrf")

DEFINITIONS = {
    "oracle": "the bounds (union, budget, select) bound how well one can choose among the two "
    "views' top-K lists, not every fusion: a fusion that ranks items outside both lists can "
    "exceed them",
    "union": "|(R_S ∪ R_C) ∩ T_u| / |T_u| (a list of up to 2K items), mean over users",
    "budget": "min(K, |(R_S ∪ R_C) ∩ T_u|) / |T_u| (K items drawn from both lists), mean over "
    "users",
    "select": "max(Recall_S(u), Recall_C(u)) (the better view per user), mean over users",
    "best_single": "the view with the higher mean Recall@K (ties: semantic)",
    "gain": "(bound - best_single) / best_single, on mean Recall@K",
    "headroom": "(fused - best_single) / (budget - best_single) on mean Recall@K: the share of "
    "the budget oracle's headroom captured; null when budget = best_single",
    "headroom_select": "(fused - best_single) / (select - best_single) on mean Recall@K: the "
    "share of the select oracle's headroom captured; null when select = best_single",
    "exceeds_oracle": "the bounds (of union, budget, select) that the fused mean Recall@K is "
    "strictly above; non-empty means the fusion is not a choice among the two views' lists",
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
    gates: dict[int, Reranker] = field(default_factory=dict)
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
            "gated": {str(k): g.to_dict() for k, g in sorted(self.gates.items())},
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
    alpha: float | None = None,
    progress: Progress | None = None,
) -> OracleResult:
    """Rank both views and the fusions on test; tune alpha and the gate on ``ev_valid`` only.

    ``alpha`` fixes the interpolation weight (None: tuned on validation per K).
    """
    sem, cf = check_views(sem, cf, "complement_oracle")
    sem_users, cf_users = (
        None if u is None else check_matrix(u, name, "complement_oracle")
        for u, name in ((sem_users, "sem_users"), (cf_users, "cf_users"))
    )
    backend = backend if backend is not None else get_backend()
    ks = check_ks(as_ks(ks, "complement_oracle"), ev.n_items)
    kmax = max(ks)
    if rrf_depth < kmax:
        raise UsageError(
            f"--rrf-depth {rrf_depth} is smaller than the largest k ({kmax}); raise it to at "
            f"least {kmax}"
        )
    depth = min(rrf_depth, ev.n_items - 1)  # every user has >= 1 excluded item: exact
    total = 4 + len(ALPHA_GRID) + 2 * len(ks)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done, total), total)

    sv = score_views(ev, sem, cf, sem_users=sem_users, cf_users=cf_users)
    views: dict[str, npt.NDArray[np.int64]] = {}
    scores: dict[str, npt.NDArray[np.float64]] = {}
    for name, items in (("semantic", sem), ("collaborative", cf)):
        q, scale = sv.search(name)  # the queries and scale that score_views computed
        check_ks([depth], ev.n_items)
        views[name], score = user_topk(
            q, items, depth, backend, history=ev.history, item_scale=scale
        )
        scores[name] = np.asarray(score, dtype=np.float64)
        step()
    concat, scores["concat_fixed"] = concat_fixed_ranked(ev, sv, kmax, backend)
    step()
    rrf, scores["rrf"] = rrf_ranked(views["semantic"], views["collaborative"], kmax)
    step()
    sv_valid = score_views(ev_valid, sem, cf, sem_users=sem_users, cf_users=cf_users, like=sv)
    search = choose_alpha(ev_valid, sv_valid, ks, backend, fixed=alpha)
    done += len(ALPHA_GRID)
    step()
    interp: dict[float, npt.NDArray[np.int64]] = {}
    for a in sorted(set(search.alpha.values())):
        interp[a], interp_scores = interpolation_ranked(ev, sv, a, kmax, backend)
        if a == search.alpha[kmax]:
            scores["score_interpolation"] = interp_scores
        step()
    # each phase's standardised scores of the candidates once, at the largest K (every K's
    # candidates are a prefix of those lists)
    valid_z = candidate_z(sv_valid, search.view_lists, kmax)
    # one Newton fit per K, independent of each other: on worker threads (their einsums release
    # the interpreter lock), in K order, each the same bits as alone
    fits = [
        partial(fit_reranker, ev_valid, sv_valid, search.view_lists, k, cand_z=valid_z) for k in ks
    ]
    gates = dict(zip(ks, in_order(fits), strict=True))
    test_z = candidate_z(sv, views, kmax)
    gated: dict[int, npt.NDArray[np.int64]] = {}
    for k in ks:
        gated[k], gated_scores = gated_ranked(ev, sv, gates[k], views, cand_z=test_z)
        if k == kmax:
            scores["gated"] = gated_scores
        step()
    fused_per_k = {
        k: {
            "concat_fixed": concat,
            "score_interpolation": interp[search.alpha[k]],
            "gated": gated[k],
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
        gates=gates,
        lists={**views, "concat_fixed": concat, "rrf": rrf},
        fused_per_k=fused_per_k,
        scores=scores,
    )
