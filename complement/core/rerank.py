"""The ``gated`` fusion: a learned re-ranking of the union of both views' top-K lists.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- Candidates of user u at cut-off K: ``R_S(u) ∪ R_C(u)``, the two views' own top-K lists
  (the semantic list first, then the collaborative items not in it).
- Features of a candidate: ``z_S``, ``z_C`` (each view's own score standardised per user over
  all candidate items, :mod:`complement.core.interpolation`), the same times the user's
  activity percentile ``a`` and times the agreement percentile ``g`` (user features of
  :mod:`complement.core.gated`, known at recommendation time), ``p`` = log(1 + item
  popularity) standardised over all items, ``p·a``, and ``both`` = 1 when the item is in both
  lists. So the fused score is a per-user mixture ``w_S(u) z_S + w_C(u) z_C`` with weights
  linear in the user's features, plus popularity terms.
- Model: L2-regularised logistic regression (penalty 1 on every weight but the intercept),
  label = the candidate is a validation target; fitted by Newton's method in float64 on the
  validation phase only (history = train, targets = validation); no randomness.
- List: the candidates by (linear score desc, item index asc), the top K. It never leaves the
  union, so its Recall@K is at most the budget oracle's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData
from complement.core.gated import gate_features
from complement.core.interpolation import Ranked, ScoreViews, ViewStats
from complement.core.metrics import hit_matrix, row_isin

__all__ = ["FEATURE_NAMES", "PENALTY", "Reranker", "candidates", "fit_reranker", "rerank_features"]

FEATURE_NAMES = ("z_S", "z_C", "z_S*a", "z_C*a", "z_S*g", "z_C*g", "p", "p*a", "both")
PENALTY = 1.0
_NEWTON_STEPS = 100
_BLOCK_VALUES = 1 << 24


def candidates(
    view_lists: Mapping[str, npt.NDArray[np.int64]], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The union of both top-k lists per user (``-1`` padded, width 2k) and 'in both' flags."""
    s, c = view_lists["semantic"][:, :k], view_lists["collaborative"][:, :k]
    c_in_s = row_isin(c, s)
    items = np.hstack([s, np.where(c_in_s | (c < 0), -1, c)])
    both = np.hstack([row_isin(s, c), np.zeros(c.shape, dtype=bool)])
    return items, both


def _z(q: npt.NDArray[np.float64], y: npt.NDArray[Any], stats: ViewStats, items: Any) -> Any:
    s = np.einsum("ud,ujd->uj", q, np.asarray(y[items], dtype=np.float64))
    sd = stats.sd[:, None]
    ok = sd > 0
    return np.where(ok, (s - stats.mean[:, None]) / np.where(ok, sd, 1.0), 0.0)


def rerank_features(
    ev: EvalData,
    sv: ScoreViews,
    view_lists: Mapping[str, npt.NDArray[np.int64]],
    k: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Candidates ``(users, 2k)`` and their features ``(users, 2k, len(FEATURE_NAMES))``."""
    items, both = candidates(view_lists, k)
    user = gate_features(ev, view_lists["semantic"], view_lists["collaborative"], k)
    act, agree = user[:, 0][:, None], user[:, 2][:, None]
    safe = np.maximum(items, 0)
    views = [sv.view(name) for name in ("semantic", "collaborative")]
    stats = [sv.stats[name] for name in ("semantic", "collaborative")]
    logpop = np.log1p(np.asarray(ev.popularity, dtype=np.float64))
    p = (logpop[safe] - logpop.mean()) / (float(logpop.std()) or 1.0)
    z = np.zeros((2, *items.shape), dtype=np.float64)
    width = max(1, items.shape[1] * max(int(y.shape[1]) for _, y in views))
    step = max(1, _BLOCK_VALUES // width)
    for v, ((q, y), st) in enumerate(zip(views, stats, strict=True)):
        for r0 in range(0, items.shape[0], step):
            r1 = min(items.shape[0], r0 + step)
            sub = ViewStats(mean=st.mean[r0:r1], sd=st.sd[r0:r1])
            z[v, r0:r1] = _z(np.asarray(q[r0:r1], dtype=np.float64), y, sub, safe[r0:r1])
    zs, zc = z
    feats = np.stack(
        [zs, zc, zs * act, zc * act, zs * agree, zc * agree, p, p * act, both.astype(float)],
        axis=2,
    )
    return items, feats


@dataclass(frozen=True)
class Reranker:
    """The fitted weights of one cut-off K."""

    k: int
    intercept: float
    weights: tuple[float, ...]
    n_candidates: int
    n_positive: int

    def ranked(
        self,
        ev: EvalData,
        sv: ScoreViews,
        view_lists: Mapping[str, npt.NDArray[np.int64]],
    ) -> Ranked:
        """Top k of the union by (score desc, item index asc), with the scores."""
        items, feats = rerank_features(ev, sv, view_lists, self.k)
        score = np.where(items >= 0, self.intercept + feats @ np.asarray(self.weights), -np.inf)
        tie = np.where(items >= 0, items, np.iinfo(np.int64).max)
        top = np.lexsort((tie, -score), axis=-1)[:, : self.k]
        idx = np.take_along_axis(items, top, axis=1)
        out = np.take_along_axis(score, top, axis=1)
        idx[np.isneginf(out)] = -1
        return idx, out

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": "union_rerank",
            "intercept": self.intercept,
            "weights": dict(zip(FEATURE_NAMES, self.weights, strict=True)),
            "n_candidates": self.n_candidates,
            "n_positive": self.n_positive,
        }


def _loss(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    reg: npt.NDArray[np.float64],
    beta: npt.NDArray[np.float64],
) -> float:
    """Penalised negative log-likelihood (the objective of :func:`fit_reranker`)."""
    t = np.einsum("ni,i->n", x, beta)
    return float(np.sum(np.logaddexp(0.0, t) - y * t) + 0.5 * np.sum(reg * beta * beta))


def fit_reranker(
    ev_valid: EvalData,
    sv_valid: ScoreViews,
    view_lists: Mapping[str, npt.NDArray[np.int64]],
    k: int,
) -> Reranker:
    """Logistic regression of 'is a validation target' on the validation candidates."""
    items, feats = rerank_features(ev_valid, sv_valid, view_lists, k)
    keep = items >= 0
    x = np.hstack([np.ones((int(keep.sum()), 1)), feats[keep]])
    y = hit_matrix(items, ev_valid)[keep].astype(np.float64)
    reg = np.full(x.shape[1], PENALTY)
    reg[0] = 0.0
    beta = np.zeros(x.shape[1])
    from scipy.special import expit  # lazily: no scipy at start-up

    for _ in range(_NEWTON_STEPS):
        # einsum, not BLAS: the same sums in the same order whatever the thread count
        p = expit(np.einsum("ni,i->n", x, beta))
        grad = np.einsum("ni,n->i", x, p - y) + reg * beta
        hess = np.einsum("ni,n,nj->ij", x, p * (1.0 - p), x) + np.diag(reg)
        hess += 1e-12 * np.eye(x.shape[1])
        delta = np.linalg.solve(hess, grad)
        step, before = 1.0, _loss(x, y, reg, beta)
        while step > 1e-6 and _loss(x, y, reg, beta - step * delta) > before:
            step /= 2  # backtracking: Newton's step never raises the penalised loss
        beta = beta - step * delta
        if float(np.abs(step * delta).max()) < 1e-12:
            break
    return Reranker(
        k=k,
        intercept=float(beta[0]),
        weights=tuple(float(b) for b in beta[1:]),
        n_candidates=int(keep.sum()),
        n_positive=int(y.sum()),
    )
