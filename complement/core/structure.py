"""Shared versus private structure: regularised CCA with a permutation null, private energy.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- Rows of both views L2-normalised. A seeded 20% of the items (``floor(0.2 n)``) is held out;
  everything is fitted on the other 80% (the fit items).
- PCA per view on the fit items (centred with their means): the top ``m = min(max_dim, d,
  n_fit - 1)`` principal components; ``pca_explained`` is the share of the view's fit variance
  they keep.
- Regularised CCA of the two PCA score matrices: ``C_aa + r·(tr C_aa / m)·I`` (likewise
  ``C_bb``) with ``r = 1e-3``; canonical correlations = singular values of
  ``C_aa^-1/2 C_ab C_bb^-1/2`` (descending). ``canonical_correlations_heldout``: the Pearson
  correlation of each pair of canonical variates on the held-out items (projected with the fit
  means, PCA loadings and canonical weights).
- Permutation null: ``permutations`` times, the rows of the collaborative scores are shuffled
  (seeded) and the same CCA is run; ``null_p95`` = the 95th percentile (linear interpolation)
  of the largest canonical correlation of each permutation. ``shared_dim`` = the number of
  leading canonical correlations strictly above ``null_p95``.
- ``variance_shared`` of a view: on the fit items, the fraction of the view's total variance
  (all dimensions, centred) reproduced by its least-squares projection onto its first
  ``shared_dim`` canonical variates (0 when ``shared_dim`` is 0).
- ``private_energy`` of an item: ``‖y − ŷ‖² / ‖y‖²`` where y is the item's L2-normalised target
  row (``direction``: sem2cf predicts collaborative from semantic) and ŷ the linear probe's
  mapped vector from a model that never saw the item: ridge (α by 5-fold CV on all items, or
  ``--ridge-alpha``) cross-fitted over 5 seeded folds, each fold centred with its training means.
  ``most_private`` / ``most_shared``: the 10 items with the highest / lowest private energy
  (ties by lower item index).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.probe_metrics import l2_rows
from complement.core.probe_models import CV_FOLDS, cv_alpha, one_blas_thread, ridge_weights
from complement.core.validate import check_views
from complement.errors import UsageError

__all__ = [
    "CCA_REG",
    "DEFINITIONS",
    "StructureResult",
    "cca",
    "private_energy",
    "shared_structure",
]

CCA_REG = 1e-3
HELDOUT_FRAC = 0.2
N_LISTED = 10
F64 = npt.NDArray[np.float64]

DEFINITIONS = {
    "preprocessing": "rows L2-normalised; a seeded floor(0.2 n) items held out, the rest fit",
    "pca": "per view on the fit items: top min(max_dim, d, n_fit - 1) principal components; "
    "pca_explained = share of the view's fit variance they keep",
    "canonical_correlations": "regularised CCA of the PCA scores on the fit items: singular "
    "values of C_aa^-1/2 C_ab C_bb^-1/2 with C + 1e-3 (tr C / m) I",
    "canonical_correlations_heldout": "Pearson correlation of each pair of canonical variates on "
    "the held-out items (fit means, loadings and weights)",
    "null_p95": "95th percentile of the largest canonical correlation over the permutations "
    "(collaborative rows shuffled, seeded; same CCA)",
    "shared_dim": "number of leading canonical correlations strictly above null_p95",
    "variance_shared": "fit items: fraction of the view's total centred variance reproduced by its "
    "least-squares projection onto its first shared_dim canonical variates",
    "private_energy": "||y - y_hat||^2 / ||y||^2, y = L2-normalised target row, y_hat = mapped "
    "vector of a ridge probe (alpha by 5-fold CV or --ridge-alpha) cross-fitted over 5 seeded "
    "folds",
    "most_private": "the 10 items with the highest private energy (ties: lower item index)",
    "most_shared": "the 10 items with the lowest private energy (ties: lower item index)",
}


def _inv_sqrt(c: F64) -> F64:
    lam, vec = np.linalg.eigh(c)
    return np.asarray((vec / np.sqrt(np.clip(lam, 1e-300, None))) @ vec.T, dtype=np.float64)


def _regularise(c: F64) -> F64:
    m = c.shape[0]
    return np.asarray(c + CCA_REG * (np.trace(c) / m) * np.eye(m), dtype=np.float64)


def _whitener(a: F64) -> F64:
    """``C_aa^-1/2`` of the regularised covariance of column-centred ``a``."""
    return _inv_sqrt(_regularise(a.T @ a / (a.shape[0] - 1)))


def cca(a: F64, b: F64, *, wa_half: F64 | None = None) -> tuple[F64, F64, F64]:
    """Regularised CCA of column-centred ``a``, ``b``: (correlations, weights_a, weights_b).

    ``wa_half``: ``a``'s whitener when already computed (the permutation null shuffles only
    ``b``, so ``a``'s is the same for every permutation).
    """
    n = a.shape[0]
    if wa_half is None:
        wa_half = _whitener(a)
    wb_half = _whitener(b)
    u, s, vt = np.linalg.svd(wa_half @ (a.T @ b / (n - 1)) @ wb_half, full_matrices=False)
    return s, wa_half @ u, wb_half @ vt.T


def _pca(x: F64, max_dim: int) -> tuple[F64, F64, float]:
    """(fit mean, loadings d×m, explained share) of the fit rows ``x``."""
    mean = x.mean(axis=0)
    xc = x - mean
    lam, vec = np.linalg.eigh(xc.T @ xc)
    lam, vec = lam[::-1], vec[:, ::-1]
    m = min(max_dim, x.shape[1], x.shape[0] - 1)
    total = float(np.clip(lam, 0, None).sum())
    explained = float(np.clip(lam[:m], 0, None).sum() / total) if total > 0 else float("nan")
    return mean, np.ascontiguousarray(vec[:, :m]), explained


def _corr_columns(u: F64, v: F64) -> F64:
    uc, vc = u - u.mean(axis=0), v - v.mean(axis=0)
    den = np.sqrt((uc**2).sum(axis=0) * (vc**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((uc * vc).sum(axis=0) / den, dtype=np.float64)


def _share(x: F64, variates: F64) -> float:
    if variates.shape[1] == 0:
        return 0.0
    q, _ = np.linalg.qr(variates)
    return float(((q.T @ x) ** 2).sum() / (x**2).sum())


def private_energy(
    source: npt.NDArray[Any], target: npt.NDArray[Any], *, alpha: float | None, seed: int
) -> tuple[F64, float]:
    """Per-item private energy of ``target`` given ``source`` (cross-fitted ridge), and α."""
    xs, yt = l2_rows(source), l2_rows(target)
    n = xs.shape[0]
    if alpha is None:
        alpha, _ = cv_alpha(xs - xs.mean(axis=0), yt - yt.mean(axis=0), seed)
    elif not alpha > 0:
        raise UsageError(f"--ridge-alpha {alpha}: the ridge penalty must be positive")
    pred = np.empty_like(yt)
    with one_blas_thread():
        for held in np.array_split(np.random.default_rng([seed, 707]).permutation(n), CV_FOLDS):
            fit = np.ones(n, dtype=bool)
            fit[held] = False
            mx, my = xs[fit].mean(axis=0), yt[fit].mean(axis=0)
            w = ridge_weights(xs[fit] - mx, yt[fit] - my, alpha)
            pred[held] = (xs[held] - mx) @ w + my
    energy = ((yt - pred) ** 2).sum(axis=1) / (yt**2).sum(axis=1)
    return np.asarray(energy, dtype=np.float64), float(alpha)


@dataclass(frozen=True)
class StructureResult:
    n_items: int
    n_fit: int
    n_heldout: int
    pca_dims: tuple[int, int]
    pca_explained: tuple[float, float]
    canonical_correlations: F64
    canonical_correlations_heldout: F64
    null_max: F64
    null_p95: float
    shared_dim: int
    variance_shared: tuple[float, float]
    direction: str
    alpha: float
    energy: F64
    most_private: list[dict[str, Any]]
    most_shared: list[dict[str, Any]]
    seed: int

    def to_dict(self) -> dict[str, Any]:
        e = self.energy
        return {
            "n_items": self.n_items,
            "n_fit": self.n_fit,
            "n_heldout": self.n_heldout,
            "seed": self.seed,
            "pca": {
                "semantic": {"dims": self.pca_dims[0], "explained": self.pca_explained[0]},
                "collaborative": {"dims": self.pca_dims[1], "explained": self.pca_explained[1]},
            },
            "cca_reg": CCA_REG,
            "canonical_correlations": self.canonical_correlations.tolist(),
            "canonical_correlations_heldout": self.canonical_correlations_heldout.tolist(),
            "null_max": self.null_max.tolist(),
            "null_p95": self.null_p95,
            "shared_dim": self.shared_dim,
            "variance_shared": {
                "semantic": self.variance_shared[0],
                "collaborative": self.variance_shared[1],
            },
            "private_energy": {
                "direction": self.direction,
                "alpha": self.alpha,
                "mean": float(e.mean()),
                "median": float(np.median(e)),
                "p10": float(np.percentile(e, 10)),
                "p90": float(np.percentile(e, 90)),
            },
            "most_private": self.most_private,
            "most_shared": self.most_shared,
        }


def _listing(
    order: npt.NDArray[np.int64], energy: F64, ids: npt.NDArray[Any], titles: list[str | None]
) -> list[dict[str, Any]]:
    return [
        {"id": str(ids[i]), "title": titles[i], "private_energy": float(energy[i])}
        for i in order[:N_LISTED].tolist()
    ]


def shared_structure(
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    *,
    max_dim: int = 64,
    permutations: int = 20,
    direction: str = "sem2cf",
    alpha: float | None = None,
    seed: int = 0,
    ids: npt.NDArray[Any] | None = None,
    titles: list[str | None] | None = None,
) -> StructureResult:
    """CCA with a permutation null, shared variance shares, and per-item private energy."""
    sem, cf = check_views(sem, cf, "shared_structure")
    n = int(sem.shape[0])
    if n < 50:
        raise UsageError(f"{n} items are too few for the structure analysis (need at least 50)")
    if max_dim < 1:
        raise UsageError(f"--max-dim {max_dim}: give at least 1")
    if permutations < 1:
        raise UsageError(f"--permutations {permutations}: give at least 1")
    xs, ys = l2_rows(sem), l2_rows(cf)
    perm = np.random.default_rng([seed, 505]).permutation(n)
    n_held = int(math.floor(HELDOUT_FRAC * n))
    held, fit = np.sort(perm[:n_held]), np.sort(perm[n_held:])
    with one_blas_thread():  # decompositions of matrices at most max_dim or d wide
        mx, px, ex = _pca(xs[fit], max_dim)
        my, py, ey = _pca(ys[fit], max_dim)
        a, b = (xs[fit] - mx) @ px, (ys[fit] - my) @ py
        wa_half = _whitener(a)
        rho, wa, wb = cca(a, b, wa_half=wa_half)
        ah, bh = (xs[held] - mx) @ px, (ys[held] - my) @ py
        rho_held = _corr_columns(ah @ wa, bh @ wb)
        rng = np.random.default_rng([seed, 606])
        null_max = np.array(
            [
                cca(a, b[rng.permutation(b.shape[0])], wa_half=wa_half)[0][0]
                for _ in range(permutations)
            ]
        )
        p95 = float(np.percentile(null_max, 95))
        above = rho > p95
        shared = int(above.size if above.all() else np.argmin(above))
        share_x = _share(xs[fit] - mx, a @ wa[:, :shared])
        share_y = _share(ys[fit] - my, b @ wb[:, :shared])
    source, target = (sem, cf) if direction == "sem2cf" else (cf, sem)
    energy, used_alpha = private_energy(source, target, alpha=alpha, seed=seed)
    idx = np.arange(n)
    labels = np.arange(n).astype(str) if ids is None else ids
    names: list[str | None] = titles if titles is not None else [None] * n
    return StructureResult(
        n_items=n,
        n_fit=int(fit.size),
        n_heldout=int(held.size),
        pca_dims=(int(px.shape[1]), int(py.shape[1])),
        pca_explained=(ex, ey),
        canonical_correlations=rho,
        canonical_correlations_heldout=rho_held,
        null_max=null_max,
        null_p95=p95,
        shared_dim=shared,
        variance_shared=(share_x, share_y),
        direction=direction,
        alpha=used_alpha,
        energy=energy,
        most_private=_listing(np.lexsort((idx, -energy)), energy, labels, names),
        most_shared=_listing(np.lexsort((idx, energy)), energy, labels, names),
        seed=seed,
    )
