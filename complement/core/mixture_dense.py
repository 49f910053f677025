"""The alpha search's mixture lists from two dense score matrices, on small catalogues.

:func:`complement.core.interpolation.choose_alpha` ranks the validation users by the mixture
``w z_S + (1 − w) z_C`` at every inner point of the grid: nine exact top-K searches over
``[y_S | y_C]`` whose queries differ only in their two scale factors. When users × items is at
most ``DENSE_VALUES``, :class:`DenseMixture` computes each view's own scores once and every
mixture as their scaled sum, then settles the top K exactly as the retrieval backends settle
theirs (:func:`complement.retrieval.exact.resolve`: near-ties rescored with the canonical score
of the very float32 query the search would use), so the lists are the same item for item
(tested against :func:`complement.core.interpolation.mixture_ranked`). Only the lists are
used (the alpha search needs no scores).

Why the order found is the canonical one. With ``q' = [fl(q_S a) | fl(q_C b)]`` the float32
query of the search (``a = w / σ_S``, ``b = (1 − w) / σ_C`` rounded to float32) and ``y`` an item
row, the approximate score is ``M = fl(fl(a S) + fl(b C))`` where ``S = fl(q_S · y_S)`` and
``C = fl(q_C · y_C)`` are float64 products rounded to float32. Each of those roundings, and
the query's own, is within ``u = 2^-24`` of its value relative to ``a Σ|q_S,i y_i|`` or
``b Σ|q_C,j y_j|``, so ``|M − q'·y| ≤ 4u(1 + 2u)(‖q'_S‖‖y_S‖ + ‖q'_C‖‖y_C‖) ≤ 6u ‖q'‖ max‖y‖``
(Cauchy–Schwarz twice). :func:`complement.retrieval.exact.margins` is called with the error
``γ_16 ‖q'‖ max‖y‖ ≈ 16u ‖q'‖ max‖y‖``, which covers it (a float32 search's own margin is
``γ_d``, d = 448 on the fixture): entries further apart than the margin are in canonical
order, closer ones are rescored canonically.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData
from complement.retrieval.exact import BAND, canonical_pairs, margins, resolve, row_norms
from complement.retrieval.pool import one_blas_thread
from complement.retrieval.selection import select_topk

if TYPE_CHECKING:  # interpolation imports this module
    from complement.core.interpolation import ScoreViews

__all__ = ["DENSE_VALUES", "DenseMixture", "dense_mixture", "mixture_query"]

#: largest users × items for which the two score matrices (float32 each) are kept: 32 MB each
DENSE_VALUES = 1 << 23
#: the error bound's multiple of u passed to ``margins`` (as a product length; see module doc)
_ERROR_TERMS = 16

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


def mixture_query(
    sem_queries: F32, cf_queries: F32, w: F64, sem_sd: F64, cf_sd: F64
) -> tuple[F32, F64, F64]:
    """The mixture's search query ``[q_S a | q_C b]`` (float32) and its scales ``a = w / σ_S``,
    ``b = (1 − w) / σ_C`` (0 where σ is 0), one row per user."""
    a = np.divide(w, sem_sd, out=np.zeros_like(w), where=sem_sd > 0)
    b = np.divide(1.0 - w, cf_sd, out=np.zeros_like(w), where=cf_sd > 0)
    query = np.hstack(
        [sem_queries * a[:, None].astype(np.float32), cf_queries * b[:, None].astype(np.float32)]
    )
    return np.ascontiguousarray(query, dtype=np.float32), a, b


@dataclass(frozen=True)
class DenseMixture:
    """Each view's own scores of every (evaluated user, item) of ``sv``'s phase.

    ``sem``/``cf``: users × items float32 (history included); ``excluded``: flat indices of the
    history entries; ``bmax``: the largest row norm of ``sv.items``.
    """

    sv: ScoreViews
    sem: F32
    cf: F32
    excluded: npt.NDArray[np.int64]
    bmax: float

    def lists(self, weight: float, k: int) -> npt.NDArray[np.int64]:
        """The top ``k`` items of every user by the mixture with one ``weight`` (0 < w < 1),
        history excluded, ``-1`` where fewer than ``k`` items are left: exactly
        ``mixture_ranked(ev, sv, weight, k, backend)[0]``."""
        sv = self.sv
        w = np.full(self.sem.shape[0], float(weight))
        stats = sv.stats
        query, a, b = mixture_query(
            sv.sem_queries, sv.cf_queries, w, stats["semantic"].sd, stats["collaborative"].sd
        )
        scores = self.sem * a[:, None].astype(np.float32)
        scores += self.cf * b[:, None].astype(np.float32)
        scores.ravel()[self.excluded] = -np.inf
        qnorm = row_norms(query)  # ‖q'‖, as the search computes it
        idx, val = _settled(scores, query, sv.items, k, qnorm, self.bmax)
        idx[np.isneginf(val)] = -1
        return idx


def _settled(
    scores: F32,
    query: F32,
    items: F32,
    k: int,
    qnorm: F64,
    bmax: float,
) -> tuple[npt.NDArray[np.int64], F32]:
    """Canonical top ``k`` of each row of ``scores``: the best ``k + BAND`` by (score desc,
    index asc), near-ties settled; rows whose near-tie at the k-th place runs past those are
    ranked again in full."""
    n, n_items = scores.shape
    out_idx = np.empty((n, k), dtype=np.int64)
    out_val = np.empty((n, k), dtype=np.float32)
    rows = np.arange(n)
    width = min(n_items, k + BAND)
    while rows.size:
        idx, vals = select_topk(scores if rows.size == n else scores[rows], width)
        margin = margins(qnorm[rows], bmax, _ERROR_TERMS, vals)
        rescore = partial(_canonical, query, items, rows)
        got, got_val, again = resolve(idx, vals, k, margin, width >= n_items, rescore)
        done = ~again
        out_idx[rows[done]], out_val[rows[done]] = got[done], got_val[done]
        rows, width = rows[again], n_items  # the rest: every item, so nothing runs past
    return out_idx, out_val


def _canonical(
    query: F32,
    items: F32,
    rows: npt.NDArray[np.intp],
    at: npt.NDArray[np.int64],
    cols: npt.NDArray[np.int64],
) -> F32:
    """Canonical scores of (``rows[at]``, ``cols``) pairs, as the search rescores them."""
    return canonical_pairs(query, items, rows[at], cols, None, None)


def dense_mixture(ev: EvalData, sv: ScoreViews) -> DenseMixture | None:
    """The :class:`DenseMixture` of a phase (None past ``DENSE_VALUES`` users × items)."""
    n_users, n_items = int(sv.sem_queries.shape[0]), int(sv.items.shape[0])
    if n_users * n_items > DENSE_VALUES or n_users == 0 or n_items == 0:
        return None
    scores = []
    with one_blas_thread():  # float64 products, rounded to float32 (see the module doc)
        for name in ("semantic", "collaborative"):
            queries, items = sv.view(name)
            product = queries.astype(np.float64) @ items.astype(np.float64).T
            scores.append(product.astype(np.float32))
    counts = np.diff(ev.history_indptr)
    users = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    excluded = users * n_items + np.asarray(ev.history_indices, dtype=np.int64)
    bmax = float(row_norms(sv.items).max(initial=0.0))
    return DenseMixture(sv=sv, sem=scores[0], cf=scores[1], excluded=excluded, bmax=bmax)
