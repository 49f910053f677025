"""User level of ``compare``: per-view accuracy, unique hits, N-view oracles, greedy selection.

The definitions are those of :mod:`complement.core.compare` (user level), on top of
:mod:`complement.core.evaluation`: each view's ranked lists of the evaluated users, cut at each
K, give per-user columns (Recall and NDCG of each view, unique hits, the union / budget / select
oracles over all views, the greedy steps, the pairs, the anchor's gains); every column of every
K is estimated from the same bootstrap resamples of the users.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, check_ks, check_n_boot, sorted_isin
from complement.core.hits import scoring_name
from complement.core.metrics import hit_matrix, ranking_metrics, row_isin
from complement.core.ranking import rank, user_queries
from complement.core.stats import Estimate, bootstrap_tables
from complement.core.stats import estimates_dict as _estimates_dict
from complement.errors import UsageError
from complement.retrieval import Backend, get_backend

__all__ = [
    "AnchorAtK",
    "GreedyStep",
    "UserCompare",
    "UsersAtK",
    "compare_users",
    "greedy_budget",
    "pairs_of",
    "users_from_lists",
]

Progress = Callable[[int, int], None]
Lists = npt.NDArray[np.int64]


def pairs_of(names: Sequence[str], anchor: str | None = None) -> list[tuple[str, str]]:
    """Every pair (a before b in ``names``), or only the pairs with ``anchor`` (anchor first)."""
    if anchor is None:
        return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    return [(anchor, v) for v in names if v != anchor]


@dataclass(frozen=True)
class GreedyStep:
    view: str
    budget: Estimate
    gain: Estimate | None

    def to_dict(self) -> dict[str, Any]:
        ci: dict[str, Any] = {"budget": list(self.budget.ci95)}
        if self.gain is not None:
            ci["gain"] = list(self.gain.ci95)
        return {
            "view": self.view,
            "budget": self.budget.value,
            "gain": None if self.gain is None else self.gain.value,
            "ci95": ci,
        }


@dataclass(frozen=True)
class AnchorAtK:
    view: str
    recall: Estimate
    budget: dict[str, Estimate]
    gain: dict[str, Estimate]
    unique_hits: dict[str, int]
    anchor_only: dict[str, int]
    ranking: list[str]

    def to_dict(self) -> dict[str, Any]:
        added = {
            v: {
                "budget": self.budget[v].value,
                "gain": self.gain[v].value,
                "unique_hits": self.unique_hits[v],
                "anchor_only": self.anchor_only[v],
                "ci95": {"budget": list(self.budget[v].ci95), "gain": list(self.gain[v].ci95)},
            }
            for v in self.budget
        }
        return {
            "view": self.view,
            "recall": self.recall.value,
            "recall_ci95": list(self.recall.ci95),
            "added": added,
            "ranking": list(self.ranking),
        }


@dataclass(frozen=True)
class UsersAtK:
    k: int
    n_users: int
    n_targets: int
    recall: dict[str, Estimate]
    ndcg: dict[str, Estimate]
    hits: dict[str, int]
    unique_hits: dict[str, int]
    unique_recall: dict[str, Estimate]
    oracle: dict[str, Estimate]
    best_single: str
    gain: dict[str, float]
    greedy: list[GreedyStep]
    pairs: dict[tuple[str, str], dict[str, Estimate]]
    anchor: AnchorAtK | None = None

    def to_dict(self) -> dict[str, Any]:
        nested: dict[str, dict[str, Any]] = {}
        for (a, b), est in self.pairs.items():
            nested.setdefault(a, {})[b] = _estimates_dict(est)
        best = self.recall[self.best_single]
        out: dict[str, Any] = {
            "n_users": self.n_users,
            "n_targets": self.n_targets,
            "recall": _estimates_dict(self.recall),
            "ndcg": _estimates_dict(self.ndcg),
            "hits": dict(self.hits),
            "unique_hits": dict(self.unique_hits),
            "unique_recall": _estimates_dict(self.unique_recall),
            "oracle": _estimates_dict(self.oracle),
            "best_single": {"view": self.best_single, "recall": best.value},
            "gain": dict(self.gain),
            "greedy": [step.to_dict() for step in self.greedy],
            "pairs": nested,
        }
        if self.anchor is not None:
            out["anchor"] = self.anchor.to_dict()
        return out


@dataclass(frozen=True)
class UserCompare:
    names: tuple[str, ...]
    n_users: int
    n_items: int
    n_targets: int
    scoring: dict[str, str]
    n_boot: int
    seed: int
    anchor: str | None
    per_k: dict[int, UsersAtK]
    lists: dict[str, Lists] = field(repr=False, default_factory=dict)

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


class _Targets:
    """Each evaluated user's targets as one flat array; which of them a list covers."""

    def __init__(self, ev: EvalData) -> None:
        self.ev = ev
        self.owner = np.repeat(np.arange(ev.n_users, dtype=np.int64), ev.n_targets)
        self.keys = self.owner * ev.n_items + ev.target_indices  # sorted
        self.size = ev.n_targets.astype(np.float64)

    def covered(self, lists: Lists) -> npt.NDArray[np.bool_]:
        """Per target: is it in its user's list (``-1`` slots never cover anything)."""
        rows = np.arange(lists.shape[0], dtype=np.int64)[:, None]
        keys = np.sort((rows * self.ev.n_items + lists)[lists >= 0])
        return np.asarray(sorted_isin(self.keys, keys), dtype=bool)

    def count(self, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        """Per user: how many of their targets ``mask`` flags."""
        return np.bincount(self.owner[mask], minlength=self.ev.n_users).astype(np.float64)


def greedy_budget(
    covered: dict[str, npt.NDArray[np.bool_]],
    targets: _Targets,
    k: int,
    start: str,
) -> tuple[list[str], list[npt.NDArray[np.float64]]]:
    """Forward selection on the budget oracle: (views in order, per-user budget after each)."""
    names = list(covered)
    chosen = [start]
    union = covered[start].copy()
    budgets = [np.minimum(k, targets.count(union)) / targets.size]
    while len(chosen) < len(names):
        best_name, best_mean, best_col, best_union = "", -np.inf, budgets[-1], union
        for name in names:
            if name in chosen:
                continue
            cand = union | covered[name]
            col = np.minimum(k, targets.count(cand)) / targets.size
            mean = float(col.mean())
            if mean > best_mean:
                best_name, best_mean, best_col, best_union = name, mean, col, cand
        chosen.append(best_name)
        budgets.append(best_col)
        union = best_union
    return chosen, budgets


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 and np.isfinite(den) else float("nan")


def users_from_lists(
    ev: EvalData,
    lists: dict[str, Lists],
    ks: Sequence[int],
    *,
    anchor: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[int, UsersAtK]:
    """Every user-level figure per K from each view's ranked lists (one row per evaluated
    user, at least max K long), all intervals from the same user resamples."""
    ks = check_ks(ks, ev.n_items)
    check_n_boot(n_boot)
    names = list(lists)
    if anchor is not None and anchor not in lists:
        raise UsageError(f"--anchor {anchor!r} is not one of the views ({', '.join(names)})")
    targets = _Targets(ev)
    size = targets.size
    pairs = pairs_of(names, anchor)
    tables: dict[int, dict[str, Any]] = {}
    exact: dict[int, dict[str, Any]] = {}
    for k in ks:
        cut = {v: lists[v][:, :k] for v in names}
        metrics = {v: ranking_metrics(hit_matrix(cut[v], ev), ev.n_targets, [k])[k] for v in names}
        covered = {v: targets.covered(cut[v]) for v in names}
        everything = np.logical_or.reduce([covered[v] for v in names])
        union_hits = targets.count(everything)
        cols: dict[str, Any] = {}
        for v in names:
            cols[f"recall:{v}"] = metrics[v].recall
            cols[f"ndcg:{v}"] = metrics[v].ndcg
        unique: dict[str, npt.NDArray[np.bool_]] = {}
        for v in names:
            others = np.logical_or.reduce([covered[w] for w in names if w != v])
            unique[v] = covered[v] & ~others
            cols[f"unique:{v}"] = targets.count(unique[v]) / size
        cols["union"] = union_hits / size
        cols["budget"] = np.minimum(k, union_hits) / size
        cols["select"] = np.max(np.stack([metrics[v].recall for v in names]), axis=0)
        means = {v: float(metrics[v].recall.mean()) for v in names}
        best = max(names, key=lambda v: (means[v], -names.index(v)))
        order, budgets = greedy_budget(covered, targets, k, anchor if anchor is not None else best)
        for i, col in enumerate(budgets):
            cols[f"greedy_budget:{i}"] = col
            if i > 0:
                cols[f"greedy_gain:{i}"] = col - budgets[i - 1]
        for a, b in pairs:
            inter = row_isin(cut[a], cut[b]).sum(axis=1)
            union = (cut[a] >= 0).sum(axis=1) + (cut[b] >= 0).sum(axis=1) - inter
            cols[f"pair_jaccard:{a}|{b}"] = np.divide(
                inter, union, out=np.zeros(ev.n_users), where=union > 0
            )
            both = targets.count(covered[a] | covered[b])
            cols[f"pair_union:{a}|{b}"] = both / size
            cols[f"pair_budget:{a}|{b}"] = np.minimum(k, both) / size
        added_hits: dict[str, int] = {}
        anchor_only: dict[str, int] = {}
        if anchor is not None:
            for v in names:
                if v == anchor:
                    continue
                both = targets.count(covered[anchor] | covered[v])
                budget = np.minimum(k, both) / size
                cols[f"anchor_budget:{v}"] = budget
                cols[f"anchor_gain:{v}"] = budget - metrics[anchor].recall
                added_hits[v] = int((covered[v] & ~covered[anchor]).sum())
                anchor_only[v] = int((covered[anchor] & ~covered[v]).sum())
        tables[k] = cols
        exact[k] = {
            "hits": {v: int(covered[v].sum()) for v in names},
            "unique_hits": {v: int(unique[v].sum()) for v in names},
            "best": best,
            "order": order,
            "added_hits": added_hits,
            "anchor_only": anchor_only,
        }
    est = bootstrap_tables(tables, n_boot=n_boot, seed=seed)
    out: dict[int, UsersAtK] = {}
    for k in ks:
        e, x = est[k], exact[k]
        best = x["best"]
        best_value = e[f"recall:{best}"].value
        bounds = {b: e[b] for b in ("union", "budget", "select")}
        greedy = [
            GreedyStep(
                view=v,
                budget=e[f"greedy_budget:{i}"],
                gain=None if i == 0 else e[f"greedy_gain:{i}"],
            )
            for i, v in enumerate(x["order"])
        ]
        anchor_k: AnchorAtK | None = None
        if anchor is not None:
            others = [v for v in names if v != anchor]
            gains = {v: e[f"anchor_gain:{v}"] for v in others}
            anchor_k = AnchorAtK(
                view=anchor,
                recall=e[f"recall:{anchor}"],
                budget={v: e[f"anchor_budget:{v}"] for v in others},
                gain=gains,
                unique_hits=x["added_hits"],
                anchor_only=x["anchor_only"],
                ranking=sorted(others, key=lambda v: (-gains[v].value, names.index(v))),
            )
        out[k] = UsersAtK(
            k=k,
            n_users=ev.n_users,
            n_targets=int(ev.n_targets.sum()),
            recall={v: e[f"recall:{v}"] for v in names},
            ndcg={v: e[f"ndcg:{v}"] for v in names},
            hits=x["hits"],
            unique_hits=x["unique_hits"],
            unique_recall={v: e[f"unique:{v}"] for v in names},
            oracle=bounds,
            best_single=best,
            gain={b: _ratio(est_b.value - best_value, best_value) for b, est_b in bounds.items()},
            greedy=greedy,
            pairs={
                (a, b): {
                    "list_jaccard": e[f"pair_jaccard:{a}|{b}"],
                    "union": e[f"pair_union:{a}|{b}"],
                    "budget": e[f"pair_budget:{a}|{b}"],
                }
                for a, b in pairs
            },
            anchor=anchor_k,
        )
    return out


def compare_users(
    ev: EvalData,
    matrices: Sequence[npt.NDArray[Any]],
    names: Sequence[str],
    ks: Sequence[int] = (10, 20, 50),
    backend: Backend | None = None,
    *,
    anchor: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
) -> UserCompare:
    """Rank every candidate for each evaluated user in each view (one ranking per view, at
    the largest K), then every user-level figure."""
    backend = backend if backend is not None else get_backend()
    ks = check_ks(ks, ev.n_items)
    if anchor is not None and anchor not in names:
        raise UsageError(f"--anchor {anchor!r} is not one of the views ({', '.join(names)})")
    kmax = max(ks)
    lists: dict[str, Lists] = {}
    for step, (name, items) in enumerate(zip(names, matrices, strict=True)):
        q, scale = user_queries(ev, items)
        lists[name] = rank(ev, q, items, kmax, backend, item_scale=scale)
        if progress is not None:
            progress(step + 1, len(names))
    per_k = users_from_lists(ev, lists, ks, anchor=anchor, n_boot=n_boot, seed=seed)
    return UserCompare(
        names=tuple(names),
        n_users=ev.n_users,
        n_items=ev.n_items,
        n_targets=int(ev.n_targets.sum()),
        scoring={name: scoring_name(False) for name in names},
        n_boot=n_boot,
        seed=seed,
        anchor=anchor,
        per_k=per_k,
        lists=lists,
    )
