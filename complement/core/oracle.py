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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import (
    Estimate,
    EvalData,
    bootstrap_tables,
    check_ks,
    check_n_boot,
    estimates_dict,
    hit_matrix,
    rank,
    ranking_metrics,
    restrict_targets,
    row_isin,
    user_queries,
)
from complement.core.fusion import (
    ALPHA_GRID,
    AlphaSearch,
    choose_alpha,
    cosine_views,
    interpolation_lists,
    norm_concat_norm_lists,
    rrf_lists,
)
from complement.core.hits import VIEWS, scoring_name
from complement.core.popularity import GROUPS, popularity_groups
from complement.core.stats import PairedTest, paired_bootstrap
from complement.errors import UsageError
from complement.retrieval import Backend, get_backend

__all__ = [
    "BOUNDS",
    "DEFINITIONS",
    "FUSIONS",
    "FusionAtK",
    "OracleAtK",
    "OracleResult",
    "complement_oracle",
    "oracle_from_lists",
]

BOUNDS = ("union", "budget", "select")
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
class FusionAtK:
    recall: Estimate
    ndcg: Estimate
    headroom: float
    test: PairedTest | None
    alpha: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **estimates_dict({"recall": self.recall, "ndcg": self.ndcg}),
            "headroom": self.headroom,
        }
        if self.test is not None:
            out["mean_diff"] = self.test.mean_diff
            out["p_value"] = self.test.p_value
            out["ci95_diff"] = list(self.test.ci95_diff)
        if self.alpha is not None:
            out["alpha"] = self.alpha
        return out


@dataclass(frozen=True)
class OracleAtK:
    k: int
    n_users: int
    n_targets: int
    recall: dict[str, Estimate]
    ndcg: dict[str, Estimate]
    oracle: dict[str, Estimate]
    best_single: str
    gain: dict[str, float]
    fusion: dict[str, FusionAtK]
    groups: dict[str, OracleAtK] | None = None

    def to_dict(self) -> dict[str, Any]:
        best = self.recall[self.best_single]
        out: dict[str, Any] = {
            "n_users": self.n_users,
            "n_targets": self.n_targets,
            "recall": estimates_dict(self.recall),
            "ndcg": estimates_dict(self.ndcg),
            "oracle": estimates_dict(self.oracle),
            "best_single": {
                "view": self.best_single,
                **estimates_dict({"recall": best, "ndcg": self.ndcg[self.best_single]}),
            },
            "gain": dict(self.gain),
            "fusion": {name: f.to_dict() for name, f in self.fusion.items()},
        }
        if self.groups is not None:
            out["groups"] = {name: g.to_dict() for name, g in self.groups.items()}
        return out


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


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 and np.isfinite(den) else float("nan")


def _columns(
    ev: EvalData,
    views: dict[str, npt.NDArray[np.int64]],
    fused: dict[str, npt.NDArray[np.int64]],
    k: int,
) -> tuple[dict[str, Any], dict[str, npt.NDArray[np.float64]]]:
    """Per-user columns to estimate at one K, and per-user Recall@K of every list."""
    s, c = views["semantic"][:, :k], views["collaborative"][:, :k]
    hs, hc = hit_matrix(s, ev), hit_matrix(c, ev)
    size = ev.n_targets
    metrics = {
        "semantic": ranking_metrics(hs, size, [k])[k],
        "collaborative": ranking_metrics(hc, size, [k])[k],
    }
    for name, lists in fused.items():
        metrics[name] = ranking_metrics(hit_matrix(lists[:, :k], ev), size, [k])[k]
    common = (hs & row_isin(s, c)).sum(axis=1)
    union_hits = metrics["semantic"].n_hits + metrics["collaborative"].n_hits - common
    columns: dict[str, Any] = {}
    for name, m in metrics.items():
        columns[f"recall_{name}"] = m.recall
        columns[f"ndcg_{name}"] = m.ndcg
    columns["union"] = union_hits / size
    columns["budget"] = np.minimum(k, union_hits) / size
    columns["select"] = np.maximum(metrics["semantic"].recall, metrics["collaborative"].recall)
    return columns, {name: m.recall for name, m in metrics.items()}


def _assemble(
    k: int,
    ev: EvalData,
    est: dict[str, Estimate],
    recall: dict[str, npt.NDArray[np.float64]],
    fused: Sequence[str],
    *,
    alpha: float | None,
    paired: bool,
    n_boot: int,
    seed: int,
) -> OracleAtK:
    best = max(VIEWS, key=lambda v: (est[f"recall_{v}"].value, v == "semantic"))
    best_value = est[f"recall_{best}"].value
    budget = est["budget"].value
    fusion = {
        name: FusionAtK(
            recall=est[f"recall_{name}"],
            ndcg=est[f"ndcg_{name}"],
            headroom=_ratio(est[f"recall_{name}"].value - best_value, budget - best_value),
            test=paired_bootstrap(recall[name], recall[best], n_boot=n_boot, seed=seed)
            if paired
            else None,
            alpha=alpha if name == "score_interpolation" else None,
        )
        for name in fused
    }
    return OracleAtK(
        k=k,
        n_users=ev.n_users,
        n_targets=int(ev.n_targets.sum()),
        recall={v: est[f"recall_{v}"] for v in VIEWS},
        ndcg={v: est[f"ndcg_{v}"] for v in VIEWS},
        oracle={b: est[b] for b in BOUNDS},
        best_single=best,
        gain={b: _ratio(est[b].value - best_value, best_value) for b in BOUNDS},
        fusion=fusion,
    )


def _per_k(
    ev: EvalData,
    views: dict[str, npt.NDArray[np.int64]],
    fused_per_k: dict[int, dict[str, npt.NDArray[np.int64]]],
    ks: Sequence[int],
    *,
    alpha: dict[int, float] | None,
    paired: bool,
    n_boot: int,
    seed: int,
) -> dict[int, OracleAtK]:
    """Every K for lists of exactly the users of ``ev`` (one bootstrap for all K)."""
    columns, recall = {}, {}
    for k in ks:
        columns[k], recall[k] = _columns(ev, views, fused_per_k.get(k, {}), k)
    est = bootstrap_tables(columns, n_boot=n_boot, seed=seed)
    return {
        k: _assemble(
            k,
            ev,
            est[k],
            recall[k],
            list(fused_per_k.get(k, {})),
            alpha=None if alpha is None else alpha.get(k),
            paired=paired,
            n_boot=n_boot,
            seed=seed,
        )
        for k in ks
    }


def oracle_from_lists(
    ev: EvalData,
    views: dict[str, npt.NDArray[np.int64]],
    fused_per_k: dict[int, dict[str, npt.NDArray[np.int64]]],
    ks: Sequence[int],
    *,
    alpha: dict[int, float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    groups: bool = True,
) -> dict[int, OracleAtK]:
    """Bounds and fusion results per K from ranked lists (one row per evaluated user).

    Paired tests are run on all evaluated users; within popularity groups fusion is reported
    without one.
    """
    ks = check_ks(ks, ev.n_items)
    check_n_boot(n_boot)
    per_k = _per_k(ev, views, fused_per_k, ks, alpha=alpha, paired=True, n_boot=n_boot, seed=seed)
    if not groups:
        return per_k
    item_group = popularity_groups(ev.popularity)
    by_group: dict[str, dict[int, OracleAtK]] = {}
    for g, name in enumerate(GROUPS):
        rows, sub = restrict_targets(ev, item_group == g)
        if rows.size == 0:
            continue
        by_group[name] = _per_k(
            sub,
            {v: lists[rows] for v, lists in views.items()},
            {k: {f: lists[rows] for f, lists in fused.items()} for k, fused in fused_per_k.items()},
            ks,
            alpha=alpha,
            paired=False,
            n_boot=n_boot,
            seed=seed,
        )
    return {
        k: replace(row, groups={name: res[k] for name, res in by_group.items()})
        for k, row in per_k.items()
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
    for name, items, users in (("semantic", sem, sem_users), ("collaborative", cf, cf_users)):
        q, scale = user_queries(ev, items, user_vectors=users)
        views[name] = rank(ev, q, items, depth, backend, item_scale=scale)
        step()
    cv = cosine_views(ev, sem, cf, sem_users=sem_users, cf_users=cf_users)
    ncn = norm_concat_norm_lists(ev, cv, kmax, backend)
    step()
    rrf = rrf_lists(views["semantic"], views["collaborative"], kmax)
    step()
    cv_valid = cosine_views(ev_valid, sem, cf, sem_users=sem_users, cf_users=cf_users)
    search = choose_alpha(ev_valid, cv_valid, ks, backend)
    done += len(ALPHA_GRID)
    step()
    interp: dict[float, npt.NDArray[np.int64]] = {}
    for alpha in sorted(set(search.alpha.values())):
        interp[alpha] = interpolation_lists(ev, cv, alpha, kmax, backend)
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
    )
