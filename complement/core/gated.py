"""User features for the ``gated`` fusion, and its first design: a per-user weight tree.

The shipped ``gated`` fusion is the union re-ranker of :mod:`complement.core.rerank`, which
uses :func:`gate_features`. The tree gate below (``fit_gate``) is the other design, kept so
that ``scripts/gated_designs.py`` can reproduce the comparison in docs/definitions.md; on the
MovieLens fixture it captured less of the oracles' headroom (it lost to the best view at
K = 10 and 20), so it is not reported.

Definitions (fixed; also in docs/definitions.md):

- Features of an evaluated user, known at recommendation time (history only, never targets):
  ``activity`` = log(1 + number of history rows); ``popularity`` = mean over ``H_u`` of
  log(1 + item popularity) (0 for an empty history); ``agreement`` = Jaccard of the two views'
  own top-K lists ``|R_S ∩ R_C| / |R_S ∪ R_C|``. Each feature is used as its percentile within
  the phase's evaluated users ((average rank − 0.5) / n), so the values carry over from the
  validation phase to the test phase although histories are longer there.
- Tree gate: a tree of depth 0, 1 or 2 whose splits are ``percentile < t`` with ``t`` in
  0.25, 0.5, 0.75, at least ``max(25, n/10)`` fitting users per leaf; each leaf holds the grid
  weight ``w`` (0.0, 0.1, ..., 1.0) maximising its users' summed validation Recall@K of the
  standardised mixture ``w z_S + (1 − w) z_C`` (ties to the smaller ``w``). For a given depth
  the tree is the exact best one over all candidate splits (exhaustive, ties to the first
  feature then the smaller threshold); a split is kept only if it raises the summed recall.
  Depth: the smallest with the highest held-out validation Recall@K in a two-fold cross-fit
  (a seeded random halving of the validation users), then refitted on all of them. Ranked
  with :func:`complement.core.interpolation.mixture_ranked` (exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData
from complement.core.interpolation import AlphaSearch
from complement.core.metrics import row_isin

__all__ = [
    "FEATURES",
    "THRESHOLDS",
    "Gate",
    "GateNode",
    "fit_gate",
    "gate_features",
    "grow_tree",
]

FEATURES = ("activity", "popularity", "agreement")
THRESHOLDS = (0.25, 0.5, 0.75)
DEPTHS = (0, 1, 2)
MIN_LEAF = 25


@dataclass(frozen=True)
class GateNode:
    """A leaf (``feature`` None: weight ``alpha``) or a split ``percentile < threshold``."""

    alpha: float
    feature: int | None = None
    threshold: float = 0.0
    below: GateNode | None = None
    above: GateNode | None = None

    def predict(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out = np.full(features.shape[0], self.alpha, dtype=np.float64)
        if self.feature is None or self.below is None or self.above is None:
            return out
        low = features[:, self.feature] < self.threshold
        out[low] = self.below.predict(features[low])
        out[~low] = self.above.predict(features[~low])
        return out

    def to_dict(self) -> dict[str, Any]:
        if self.feature is None or self.below is None or self.above is None:
            return {"alpha": self.alpha}
        return {
            "feature": FEATURES[self.feature],
            "threshold": self.threshold,
            "below": self.below.to_dict(),
            "above": self.above.to_dict(),
        }


@dataclass(frozen=True)
class Gate:
    """The fitted gate of one K and how its depth was chosen."""

    k: int
    depth: int
    tree: GateNode
    crossfit_recall: dict[int, float]
    n_users: int
    seed: int

    def weights(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The semantic weight of each user (rows of :func:`gate_features`)."""
        return self.tree.predict(features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "depth": self.depth,
            "tree": self.tree.to_dict(),
            "crossfit_recall": {str(d): v for d, v in sorted(self.crossfit_recall.items())},
            "n_users": self.n_users,
            "seed": self.seed,
        }


def _average_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """1-based ranks, ties averaged (``scipy.stats.rankdata(method="average")`` exactly)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    ends = np.concatenate([starts[1:], [values.shape[0]]])
    mean_rank = (starts + 1 + ends) / 2.0
    ranks = np.empty(values.shape[0], dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def _percentile(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n = values.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    out: npt.NDArray[np.float64] = (_average_ranks(values) - 0.5) / n
    return out


def _jaccard(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    common = row_isin(a, b).sum(axis=1)
    union = (a >= 0).sum(axis=1) + (b >= 0).sum(axis=1) - common
    out: npt.NDArray[np.float64] = np.zeros(a.shape[0], dtype=np.float64)
    np.divide(common, union, out=out, where=union > 0)
    return out


def gate_features(
    ev: EvalData, sem_lists: npt.NDArray[np.int64], cf_lists: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.float64]:
    """Percentiles of (activity, popularity, agreement at K) of each evaluated user."""
    counts = np.diff(ev.history_indptr)
    logpop = np.log1p(np.asarray(ev.popularity, dtype=np.float64))[ev.history_indices]
    owner = np.repeat(np.arange(ev.n_users), counts)
    sums = np.bincount(owner, weights=logpop, minlength=ev.n_users)
    popularity = np.divide(sums, counts, out=np.zeros(ev.n_users), where=counts > 0)
    raw = [
        np.log1p(np.asarray(ev.activity, dtype=np.float64)),
        popularity,
        _jaccard(sem_lists[:, :k], cf_lists[:, :k]),
    ]
    return np.column_stack([_percentile(f) for f in raw])


def _leaf(recall: npt.NDArray[np.float64], grid: tuple[float, ...]) -> tuple[GateNode, float]:
    sums = recall.sum(axis=0)
    best = int(np.argmax(sums))  # first maximum: the smaller weight on ties
    return GateNode(alpha=grid[best]), float(sums[best])


def grow_tree(
    features: npt.NDArray[np.float64],
    recall: npt.NDArray[np.float64],
    grid: tuple[float, ...],
    depth: int,
    min_leaf: int,
) -> tuple[GateNode, float]:
    """The exact best tree of at most ``depth`` (summed recall over its users, see module)."""
    node, total = _leaf(recall, grid)
    if depth == 0:
        return node, total
    for f in range(features.shape[1]):
        for t in THRESHOLDS:
            low = features[:, f] < t
            n_low = int(low.sum())
            if min(n_low, low.shape[0] - n_low) < min_leaf:
                continue
            below, v_low = grow_tree(features[low], recall[low], grid, depth - 1, min_leaf)
            above, v_high = grow_tree(features[~low], recall[~low], grid, depth - 1, min_leaf)
            if v_low + v_high > total:
                total = v_low + v_high
                node = GateNode(node.alpha, f, t, below, above)
    return node, total


def _min_leaf(n: int) -> int:
    return max(MIN_LEAF, math.ceil(n / 10))


def fit_gate(search: AlphaSearch, ev_valid: EvalData, k: int, *, seed: int = 0) -> Gate:
    """Fit the gate of cut-off ``k`` on the validation phase (see the module definitions)."""
    recall = search.per_user[k]
    features = gate_features(
        ev_valid, search.view_lists["semantic"], search.view_lists["collaborative"], k
    )
    n = features.shape[0]
    fold = np.zeros(n, dtype=bool)
    fold[np.random.default_rng(seed).permutation(n)[: n // 2]] = True
    held_out: dict[int, float] = {}
    for depth in DEPTHS:
        total = 0.0
        for part in (fold, ~fold):
            tree, _ = grow_tree(
                features[part], recall[part], search.grid, depth, _min_leaf(int(part.sum()))
            )
            w = tree.predict(features[~part])
            cols = np.searchsorted(np.asarray(search.grid), w)
            total += float(recall[np.flatnonzero(~part), cols].sum())
        held_out[depth] = total / n if n else float("nan")
    best = max(DEPTHS, key=lambda d: (held_out[d], -d))
    tree, _ = grow_tree(features, recall, search.grid, best, _min_leaf(n))
    return Gate(k=k, depth=best, tree=tree, crossfit_recall=held_out, n_users=n, seed=seed)
