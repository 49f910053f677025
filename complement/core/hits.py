"""User-level complementarity of the two views: list overlap and unique hits.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``), on top of
those of :mod:`complement.core.evaluation` (history, ``T_u``, scoring, Recall/NDCG/HitRate):

- ``R_S(u)``, ``R_C(u)``: the top-K lists of the semantic and the collaborative view;
  ``H_S = R_S ∩ T_u``, ``H_C = R_C ∩ T_u``.
- ``list_jaccard`` = mean over users of ``|R_S ∩ R_C| / |R_S ∪ R_C|``.
- Unique hits, pooled over users: ``common = Σ|H_S ∩ H_C|``, ``semantic_only = Σ|H_S \\ H_C|``,
  ``collaborative_only = Σ|H_C \\ H_S|``; ``complementary_ratio = (semantic_only +
  collaborative_only) / (common + semantic_only + collaborative_only)``.
- User classes: ``both`` (``H_S`` and ``H_C`` non-empty), ``semantic_only``,
  ``collaborative_only``, ``no_hit``; count, share, and mean ``log(1 + activity)``.
- Hit item popularity: mean ``log(1 + popularity)`` over the pooled hits of each hit class.
- Groups: the same, with ``T_u`` restricted to the test items of one popularity group (cold =
  bottom 60% of items by history count, mid = next 20%, hot = top 20%), over the users with
  at least one such item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, check_ks, check_n_boot, restrict_targets
from complement.core.metrics import ViewMetrics, hit_matrix, ranking_metrics, row_isin
from complement.core.popularity import GROUPS, popularity_groups
from complement.core.ranking import user_queries
from complement.core.stats import Estimate, bootstrap_tables, estimates_dict
from complement.core.validate import as_ks, check_matrix, check_views
from complement.retrieval import Backend, get_backend, user_topk

__all__ = [
    "DEFINITIONS",
    "HIT_CLASSES",
    "USER_CLASSES",
    "VIEWS",
    "HitsAtK",
    "HitsResult",
    "complement_hits",
    "hits_from_lists",
    "scoring_name",
]

VIEWS = ("semantic", "collaborative")
USER_CLASSES = ("both", "semantic_only", "collaborative_only", "no_hit")
HIT_CLASSES = ("common", "semantic_only", "collaborative_only")

DEFINITIONS = {
    "list_jaccard": "|R_S(u) ∩ R_C(u)| / |R_S(u) ∪ R_C(u)| of the two top-K lists, mean over users",
    "hits": "H = R ∩ T_u; pooled over users: common = Σ|H_S ∩ H_C|, semantic_only = "
    "Σ|H_S \\ H_C|, collaborative_only = Σ|H_C \\ H_S|",
    "complementary_ratio": "(semantic_only + collaborative_only) / (common + semantic_only + "
    "collaborative_only); its ci95 recomputes the pooled sums on each user resample",
    "user_classes": "both = H_S and H_C non-empty; semantic_only = only H_S; collaborative_only "
    "= only H_C; no_hit = neither; share = count / n_users; mean_log_activity = mean "
    "log(1 + history rows of the user)",
    "hit_item_popularity": "mean log(1 + history rows of the item) over the pooled hits of "
    "each hit class",
    "groups": "T_u restricted to the test items of one popularity group (items ranked by "
    "history count, ties by lower index: cold = bottom 60%, mid = next 20%, hot = top 20%); "
    "users with no such item are left out of that group",
}

Progress = Callable[[int, int], None]


def scoring_name(has_user_vectors: bool) -> str:
    return (
        "inner product with user embeddings"
        if has_user_vectors
        else "cosine to the mean of the user's L2-normalised history items"
    )


@dataclass(frozen=True)
class HitsAtK:
    k: int
    n_users: int
    n_targets: int
    recall: dict[str, Estimate]
    ndcg: dict[str, Estimate]
    hit_rate: dict[str, Estimate]
    list_jaccard: Estimate
    hits: dict[str, int]
    complementary_ratio: Estimate
    user_classes: dict[str, dict[str, Any]]
    hit_item_popularity: dict[str, dict[str, Any]]
    groups: dict[str, HitsAtK] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_users": self.n_users,
            "n_targets": self.n_targets,
            "recall": estimates_dict(self.recall),
            "ndcg": estimates_dict(self.ndcg),
            "hit_rate": estimates_dict(self.hit_rate),
            **estimates_dict(
                {
                    "list_jaccard": self.list_jaccard,
                    "complementary_ratio": self.complementary_ratio,
                }
            ),
            "hits": dict(self.hits),
            "user_classes": self.user_classes,
            "hit_item_popularity": self.hit_item_popularity,
        }
        if self.groups is not None:
            out["groups"] = {name: g.to_dict() for name, g in self.groups.items()}
        return out


@dataclass(frozen=True)
class HitsResult:
    n_users: int
    n_items: int
    n_targets: int
    scoring: dict[str, str]
    n_boot: int
    seed: int
    per_k: dict[int, HitsAtK]
    sem_lists: npt.NDArray[np.int64] = field(repr=False)
    cf_lists: npt.NDArray[np.int64] = field(repr=False)
    #: the score of each slot of ``sem_lists`` / ``cf_lists`` (None when not kept)
    sem_scores: npt.NDArray[np.float64] | None = field(repr=False, default=None)
    cf_scores: npt.NDArray[np.float64] | None = field(repr=False, default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_targets": self.n_targets,
            "scoring": dict(self.scoring),
            "n_boot": self.n_boot,
            "seed": self.seed,
            "k": {str(k): v.to_dict() for k, v in sorted(self.per_k.items())},
        }


#: Users whose (users x K) temporaries are built at once: every per-user value is computed
#: row by row, so the blocking changes no bit, only the memory (a few MB instead of hundreds).
_ROWS = 8192


def _row_blocks(n: int) -> list[slice]:
    return [slice(r, min(n, r + _ROWS)) for r in range(0, n, _ROWS)]


def _isin_by_rows(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """:func:`~complement.core.metrics.row_isin`, block of users by block."""
    out = np.zeros(a.shape, dtype=bool)
    for r in _row_blocks(a.shape[0]):
        out[r] = row_isin(a[r], b[r])
    return out


def _metrics_by_rows(
    hits: npt.NDArray[np.bool_], n_targets: npt.NDArray[np.int64], k: int
) -> ViewMetrics:
    """:func:`~complement.core.metrics.ranking_metrics` at one K, block of users by block."""
    parts = [ranking_metrics(hits[r], n_targets[r], [k])[k] for r in _row_blocks(hits.shape[0])]
    if not parts:
        return ranking_metrics(hits, n_targets, [k])[k]
    return ViewMetrics(
        k=k,
        recall=np.concatenate([p.recall for p in parts]),
        ndcg=np.concatenate([p.ndcg for p in parts]),
        hit_rate=np.concatenate([p.hit_rate for p in parts]),
        n_hits=np.concatenate([p.n_hits for p in parts]),
    )


def _columns(
    ev: EvalData, sem: npt.NDArray[np.int64], cf: npt.NDArray[np.int64], k: int
) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    """Per-user columns to estimate at one K, and the exact pooled counts."""
    s, c = sem[:, :k], cf[:, :k]
    hs, hc = hit_matrix(s, ev), hit_matrix(c, ev)
    ms = _metrics_by_rows(hs, ev.n_targets, k)
    mc = _metrics_by_rows(hc, ev.n_targets, k)
    in_c, in_s = _isin_by_rows(s, c), _isin_by_rows(c, s)
    inter = in_c.sum(axis=1)
    union = (s >= 0).sum(axis=1) + (c >= 0).sum(axis=1) - inter
    jac = np.divide(inter, union, out=np.zeros(ev.n_users), where=union > 0)
    elements = {
        "common": (hs & in_c, s),
        "semantic_only": (hs & ~in_c, s),
        "collaborative_only": (hc & ~in_s, c),
    }
    per_user = {name: m.sum(axis=1).astype(np.float64) for name, (m, _) in elements.items()}
    any_s, any_c = ms.n_hits > 0, mc.n_hits > 0
    classes = {
        "both": any_s & any_c,
        "semantic_only": any_s & ~any_c,
        "collaborative_only": ~any_s & any_c,
        "no_hit": ~any_s & ~any_c,
    }
    log_act = np.log1p(ev.activity.astype(np.float64))
    log_pop = np.log1p(ev.popularity.astype(np.float64))
    columns: dict[str, Any] = {
        "recall_semantic": ms.recall,
        "recall_collaborative": mc.recall,
        "ndcg_semantic": ms.ndcg,
        "ndcg_collaborative": mc.ndcg,
        "hit_rate_semantic": ms.hit_rate,
        "hit_rate_collaborative": mc.hit_rate,
        "list_jaccard": jac,
        "complementary_ratio": (
            per_user["semantic_only"] + per_user["collaborative_only"],
            per_user["common"] + per_user["semantic_only"] + per_user["collaborative_only"],
        ),
    }
    for name, member in classes.items():
        columns[f"share_{name}"] = member.astype(np.float64)
        columns[f"activity_{name}"] = (member * log_act, member.astype(np.float64))
    for name, (mask, lists) in elements.items():
        pop = np.empty(ev.n_users, dtype=np.float64)
        for r in _row_blocks(ev.n_users):
            pop[r] = np.where(mask[r], log_pop[np.maximum(lists[r], 0)], 0.0).sum(axis=1)
        columns[f"popularity_{name}"] = (pop, per_user[name])
    exact = {
        "hits": {name: int(per_user[name].sum()) for name in HIT_CLASSES},
        "classes": {name: int(member.sum()) for name, member in classes.items()},
    }
    return columns, exact


def _assemble(
    k: int, ev: EvalData, est: dict[str, Estimate], exact: dict[str, dict[str, int]]
) -> HitsAtK:
    user_classes = {
        name: {
            "count": count,
            **estimates_dict(
                {"share": est[f"share_{name}"], "mean_log_activity": est[f"activity_{name}"]}
            ),
        }
        for name, count in exact["classes"].items()
    }
    hit_pop = {
        name: {
            "n": exact["hits"][name],
            **estimates_dict({"mean_log_popularity": est[f"popularity_{name}"]}),
        }
        for name in HIT_CLASSES
    }
    return HitsAtK(
        k=k,
        n_users=ev.n_users,
        n_targets=int(ev.n_targets.sum()),
        recall={v: est[f"recall_{v}"] for v in VIEWS},
        ndcg={v: est[f"ndcg_{v}"] for v in VIEWS},
        hit_rate={v: est[f"hit_rate_{v}"] for v in VIEWS},
        list_jaccard=est["list_jaccard"],
        hits=dict(exact["hits"]),
        complementary_ratio=est["complementary_ratio"],
        user_classes=user_classes,
        hit_item_popularity=hit_pop,
    )


def _per_k(
    ev: EvalData,
    sem: npt.NDArray[np.int64],
    cf: npt.NDArray[np.int64],
    ks: Sequence[int],
    *,
    n_boot: int,
    seed: int,
) -> dict[int, HitsAtK]:
    """Every K for lists of exactly the users of ``ev`` (one bootstrap for all K)."""
    columns, exact = {}, {}
    for k in ks:
        columns[k], exact[k] = _columns(ev, sem, cf, k)
    est = bootstrap_tables(columns, n_boot=n_boot, seed=seed)
    return {k: _assemble(k, ev, est[k], exact[k]) for k in ks}


def hits_from_lists(
    ev: EvalData,
    sem_lists: npt.NDArray[np.int64],
    cf_lists: npt.NDArray[np.int64],
    ks: Sequence[int],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    scoring: dict[str, str] | None = None,
    groups: bool = True,
    sem_scores: npt.NDArray[np.float64] | None = None,
    cf_scores: npt.NDArray[np.float64] | None = None,
) -> HitsResult:
    """Complementarity of two ranked lists per evaluated user (each at least max K long).

    ``sem_scores`` / ``cf_scores``: the score of each slot, kept on the result (exports).
    """
    ks = check_ks(ks, ev.n_items)
    check_n_boot(n_boot)
    per_k = _per_k(ev, sem_lists, cf_lists, ks, n_boot=n_boot, seed=seed)
    if groups:
        item_group = popularity_groups(ev.popularity)
        by_group: dict[str, dict[int, HitsAtK]] = {}
        for g, name in enumerate(GROUPS):
            rows, sub = restrict_targets(ev, item_group == g)
            if rows.size:
                by_group[name] = _per_k(
                    sub, sem_lists[rows], cf_lists[rows], ks, n_boot=n_boot, seed=seed
                )
        per_k = {
            k: replace(row, groups={name: res[k] for name, res in by_group.items()})
            for k, row in per_k.items()
        }
    return HitsResult(
        n_users=ev.n_users,
        n_items=ev.n_items,
        n_targets=int(ev.n_targets.sum()),
        scoring=dict(scoring or {}),
        n_boot=n_boot,
        seed=seed,
        per_k=per_k,
        sem_lists=sem_lists,
        cf_lists=cf_lists,
        sem_scores=sem_scores,
        cf_scores=cf_scores,
    )


def complement_hits(
    ev: EvalData,
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    ks: Sequence[int] = (10, 20, 50),
    backend: Backend | None = None,
    *,
    sem_users: npt.NDArray[Any] | None = None,
    cf_users: npt.NDArray[Any] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
) -> HitsResult:
    """Rank every candidate for each evaluated user in both views, then compare the lists.

    ``sem_users`` / ``cf_users``: user embeddings with one row per log user (optional).
    """
    sem, cf = check_views(sem, cf, "complement_hits")
    sem_users, cf_users = (
        None if u is None else check_matrix(u, name, "complement_hits")
        for u, name in ((sem_users, "sem_users"), (cf_users, "cf_users"))
    )
    backend = backend if backend is not None else get_backend()
    ks = check_ks(as_ks(ks, "complement_hits"), ev.n_items)
    kmax = max(ks)
    lists, scores = [], []
    for step, (items, users) in enumerate(((sem, sem_users), (cf, cf_users))):
        q, scale = user_queries(ev, items, user_vectors=users)
        idx, score = user_topk(q, items, kmax, backend, history=ev.history, item_scale=scale)
        del q, scale  # the next view's queries and search do not hold this one's
        lists.append(idx)
        scores.append(np.asarray(score, dtype=np.float64))
        del idx, score
        if progress is not None:
            progress(step + 1, 2)
    scoring = {
        "semantic": scoring_name(sem_users is not None),
        "collaborative": scoring_name(cf_users is not None),
    }
    return hits_from_lists(
        ev,
        lists[0],
        lists[1],
        ks,
        n_boot=n_boot,
        seed=seed,
        scoring=scoring,
        sem_scores=scores[0],
        cf_scores=scores[1],
    )
