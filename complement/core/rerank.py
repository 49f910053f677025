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

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData
from complement.core.gated import gate_features
from complement.core.interpolation import Ranked, ScoreViews, ViewStats
from complement.core.metrics import hit_matrix, row_isin

__all__ = [
    "FEATURE_NAMES",
    "PENALTY",
    "CandidateZ",
    "Reranker",
    "candidate_z",
    "candidates",
    "expit",
    "fit_reranker",
    "libm_exp",
    "rerank_features",
    "weighted_gram",
]

FEATURE_NAMES = ("z_S", "z_C", "z_S*a", "z_C*a", "z_S*g", "z_C*g", "p", "p*a", "both")
PENALTY = 1.0
_NEWTON_STEPS = 100
#: entries past which :func:`expit` uses scipy (a Newton fit calls it about ten times)
_SCIPY_EXPIT_VALUES = 1 << 19
#: exp is finite below this (the float64 overflow threshold is about 709.78)
_EXP_SAFE = 709.0
#: float64 values of one block of gathered candidate rows (512 KB: stays in cache; on the
#: 2-core machine blocks of 2 MB measured 4x slower, 256 KB to 1 MB within 30%)
_GATHER_VALUES = 1 << 16


def candidates(
    view_lists: Mapping[str, npt.NDArray[np.int64]], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The union of both top-k lists per user (``-1`` padded, width 2k) and 'in both' flags."""
    s, c = view_lists["semantic"][:, :k], view_lists["collaborative"][:, :k]
    c_in_s = row_isin(c, s)
    items = np.hstack([s, np.where(c_in_s | (c < 0), -1, c)])
    both = np.hstack([row_isin(s, c), np.zeros(c.shape, dtype=bool)])
    return items, both


def _z(
    q: npt.NDArray[np.float64],
    y: npt.NDArray[Any],
    stats: ViewStats,
    items: Any,
    scratch: npt.NDArray[np.float64] | None = None,
) -> Any:
    """Standardised own scores of ``items`` (``scratch``: room for the gathered float64 rows
    when ``y`` is float64, filled in place instead of a new array per block)."""
    if scratch is not None and y.dtype == np.float64:
        rows = scratch.reshape(-1)[: items.size * y.shape[1]].reshape(*items.shape, y.shape[1])
        gathered = np.take(y, items, axis=0, out=rows, mode="wrap")
    else:
        gathered = np.asarray(y[items], dtype=np.float64)
    s = np.einsum("ud,ujd->uj", q, gathered)
    sd = stats.sd[:, None]
    ok = sd > 0
    return np.where(ok, (s - stats.mean[:, None]) / np.where(ok, sd, 1.0), 0.0)


@dataclass(frozen=True)
class CandidateZ:
    """``z_S`` and ``z_C`` of each view's own top-``k`` items (the candidates of every K <= k).

    ``on[l][v]`` (users × the list's width up to k, float64) is the standardised own score in
    view ``v`` (0: semantic, 1: collaborative) of each item of view ``l``'s top-k list; a ``-1``
    slot holds item 0's. Computed once per phase, every K's features are slices of it: each
    entry is the same float64 dot product whatever the cut-off.
    """

    k: int
    on: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]


def candidate_z(
    sv: ScoreViews, view_lists: Mapping[str, npt.NDArray[np.int64]], k: int
) -> CandidateZ:
    """:class:`CandidateZ` of the top-``k`` lists (every candidate of every cut-off up to k)."""
    lists = [np.maximum(view_lists[name][:, :k], 0) for name in ("semantic", "collaborative")]
    n = int(lists[0].shape[0])
    on = tuple(np.zeros((2, n, int(a.shape[1])), dtype=np.float64) for a in lists)
    for v, name in enumerate(("semantic", "collaborative")):
        q, y = sv.view(name)
        y64 = np.asarray(y, dtype=np.float64)  # exact: one conversion, not one per gathered row
        q64 = np.asarray(q, dtype=np.float64)
        st = sv.stats[name]
        # small blocks: the gathered rows stay in cache (each entry is one dot product of
        # length d, the same bits whatever the block)
        step = max(1, _GATHER_VALUES // max(1, k * int(y.shape[1])))
        scratch = np.empty(min(n, step) * k * int(y.shape[1]), dtype=np.float64)
        for r0 in range(0, n, step):
            r1 = min(n, r0 + step)
            sub = ViewStats(mean=st.mean[r0:r1], sd=st.sd[r0:r1])
            for out, safe in zip(on, lists, strict=True):
                out[v, r0:r1] = _z(q64[r0:r1], y64, sub, safe[r0:r1], scratch)
    return CandidateZ(k=k, on=(on[0], on[1]))


def rerank_features(
    ev: EvalData,
    sv: ScoreViews,
    view_lists: Mapping[str, npt.NDArray[np.int64]],
    k: int,
    *,
    cand_z: CandidateZ | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Candidates ``(users, 2k)`` and their features ``(users, 2k, len(FEATURE_NAMES))``.

    ``cand_z``: the standardised scores of the same lists to a depth of at least ``k`` (computed
    here when not given). Features of ``-1`` candidates are placeholders (never used).
    """
    items, both = candidates(view_lists, k)
    cz = cand_z if cand_z is not None and cand_z.k >= k else candidate_z(sv, view_lists, k)
    user = gate_features(ev, view_lists["semantic"], view_lists["collaborative"], k)
    act, agree = user[:, 0][:, None], user[:, 2][:, None]
    safe = np.maximum(items, 0)
    logpop = np.log1p(np.asarray(ev.popularity, dtype=np.float64))
    p = (logpop[safe] - logpop.mean()) / (float(logpop.std()) or 1.0)
    ws, wc = (int(view_lists[name][:, :k].shape[1]) for name in ("semantic", "collaborative"))
    zs, zc = (np.hstack([cz.on[0][v][:, :ws], cz.on[1][v][:, :wc]]) for v in (0, 1))
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
        *,
        cand_z: CandidateZ | None = None,
    ) -> Ranked:
        """Top k of the union by (score desc, item index asc), with the scores (``cand_z``: as for
        :func:`fit_reranker`)."""
        items, feats = rerank_features(ev, sv, view_lists, self.k, cand_z=cand_z)
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


def expit(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The logistic function ``1 / (1 + exp(-t))`` (float64), evaluated as scipy's ``expit``
    evaluates it, bit for bit on every machine, without importing scipy.

    ``exp`` is the C library's (:func:`libm_exp`), as in scipy; numpy's own ``exp`` (its SIMD
    code on AVX-512 machines) differs from it in the last bit for a few percent of the inputs,
    which moved the fitted gate weights. Overflow of ``exp`` gives 0, exactly. Past
    ``_SCIPY_EXPIT_VALUES`` entries scipy's own ``expit`` is used (the same bits, about 14
    times faster than :func:`libm_exp`, which then repays scipy's import of about 0.35 s).
    """
    t = np.asarray(t, dtype=np.float64)
    if t.size > _SCIPY_EXPIT_VALUES:
        from scipy.special import expit as scipy_expit

        return np.asarray(scipy_expit(t), dtype=np.float64)
    return np.asarray(1.0 / (1.0 + libm_exp(-t)), dtype=np.float64)


def libm_exp(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``exp`` of every entry by the C library (Python's :func:`math.exp`), as scipy's float64
    ufuncs compute it, whatever SIMD code numpy's ``exp`` would use on this machine.

    About 0.1 µs an entry, holding the interpreter lock (numpy's is about 100 times faster,
    and not the same bits everywhere); overflow gives ``inf``, as in C.
    """
    arr = np.asarray(x, dtype=np.float64)
    flat = arr.ravel()
    big = flat > _EXP_SAFE
    safe = np.where(big, 0.0, flat) if big.any() else flat
    out = np.fromiter(map(math.exp, safe.tolist()), dtype=np.float64, count=flat.size)
    for i in np.flatnonzero(big).tolist():  # past the threshold: rare, one at a time
        try:
            out[i] = math.exp(float(flat[i]))
        except OverflowError:
            out[i] = math.inf
    return out.reshape(arr.shape)


def weighted_gram(
    x: npt.NDArray[np.float64], w: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``Σ_n w_n x_n x_nᵀ`` as ``einsum("ni,n,nj->ij", x, w, x)`` computes it, bit for bit:
    each term ``(x_ni w_n) x_nj``, summed over ``n`` in order (x: at least 2 columns).

    The weighted rows are formed first and einsum's two-operand loop sums their products with
    ``x`` in the same order as its three-operand loop, in half the time (tested bit for bit).
    With one column the two-operand loop sums a contiguous vector in another order.
    """
    if x.shape[1] < 2:
        return np.asarray(np.einsum("ni,n,nj->ij", x, w, x), dtype=np.float64)
    return np.asarray(np.einsum("ni,nj->ij", x * w[:, None], x), dtype=np.float64)


def _loss(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    reg: npt.NDArray[np.float64],
    beta: npt.NDArray[np.float64],
) -> float:
    """Penalised negative log-likelihood (the objective of :func:`fit_reranker`)."""
    return _loss_at(np.einsum("ni,i->n", x, beta), y, reg, beta)


def _loss_at(
    t: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    reg: npt.NDArray[np.float64],
    beta: npt.NDArray[np.float64],
) -> float:
    """:func:`_loss` from the linear predictor ``t = x beta`` already computed."""
    return float(np.sum(np.logaddexp(0.0, t) - y * t) + 0.5 * np.sum(reg * beta * beta))


def fit_reranker(
    ev_valid: EvalData,
    sv_valid: ScoreViews,
    view_lists: Mapping[str, npt.NDArray[np.int64]],
    k: int,
    *,
    cand_z: CandidateZ | None = None,
) -> Reranker:
    """Logistic regression of 'is a validation target' on the validation candidates.

    ``cand_z``: :func:`candidate_z` of ``view_lists`` to a depth of at least ``k`` (shared by the
    cut-offs; computed here when not given).
    """
    items, feats = rerank_features(ev_valid, sv_valid, view_lists, k, cand_z=cand_z)
    keep = items >= 0
    x = np.hstack([np.ones((int(keep.sum()), 1)), feats[keep]])
    y = hit_matrix(items, ev_valid)[keep].astype(np.float64)
    reg = np.full(x.shape[1], PENALTY)
    reg[0] = 0.0
    beta = np.zeros(x.shape[1])
    # einsum, not BLAS: the same sums in the same order whatever the thread count. The linear
    # predictor x beta and the loss at the accepted beta are those of the last line search
    # (the same array, the same bits), so each is computed once per step.
    t = np.einsum("ni,i->n", x, beta)
    before: float | None = None
    for _ in range(_NEWTON_STEPS):
        p = expit(t)
        grad = np.einsum("ni,n->i", x, p - y) + reg * beta
        hess = weighted_gram(x, p * (1.0 - p)) + np.diag(reg)
        hess += 1e-12 * np.eye(x.shape[1])
        delta = np.linalg.solve(hess, grad)
        if before is None:
            before = _loss_at(t, y, reg, beta)
        step = 1.0
        trial: tuple[npt.NDArray[np.float64], float] | None = None
        while step > 1e-6:
            moved = beta - step * delta
            t_step = np.einsum("ni,i->n", x, moved)
            loss = _loss_at(t_step, y, reg, moved)
            if not loss > before:
                trial = (t_step, loss)
                break
            step /= 2  # backtracking: Newton's step never raises the penalised loss
        beta = beta - step * delta
        if trial is None:  # the step shrank below 1e-6 untested: start afresh at the new beta
            t, before = np.einsum("ni,i->n", x, beta), None
        else:
            t, before = trial
        if float(np.abs(step * delta).max()) < 1e-12:
            break
    return Reranker(
        k=k,
        intercept=float(beta[0]),
        weights=tuple(float(b) for b in beta[1:]),
        n_candidates=int(keep.sum()),
        n_positive=int(y.sum()),
    )
