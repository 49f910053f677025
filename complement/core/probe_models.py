"""The probe capacities: ridge in closed form, reduced-rank ridge, and MLPs in torch.

All fits take centred inputs ``x`` (n×p) and targets ``y`` (n×q) and return a :class:`Probe`
whose ``predict`` maps centred sources to centred targets (no intercept: centring does it).

- ``linear``: ``W = (XᵀX + αI)⁻¹ XᵀY`` through the eigendecomposition of ``XᵀX`` (float64).
  α from ``ALPHA_GRID`` by 5-fold cross-validation on the training items (seeded folds; each
  fold centred with its own training means; the α with the smallest summed squared error over
  all held-out folds and output dimensions, ties to the smaller α), or fixed.
- ``lowrank``: reduced-rank ridge (Mukherjee & Zhu, 2011): ``W_r = W_α V_r V_rᵀ`` where
  ``V_r`` are the top-r eigenvectors of ``W_αᵀ (XᵀX + αI) W_α``; α as for ``linear``.
- ``mlp1``: one hidden layer of 512; ``mlp2`` / ``mlp3``: two / three hidden layers of 2048;
  ReLU. MSE loss, Adam (lr 1e-3), batch 1024, seeded shuffling; a seeded 10% of the training
  items is held out for early stopping: training stops when the validation MSE has not improved
  for ``PATIENCE`` epochs (or at ``max_epochs``) and the weights of the best epoch are kept.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import UsageError

__all__ = [
    "ALPHA_GRID",
    "CV_FOLDS",
    "MLP_LAYERS",
    "PATIENCE",
    "Probe",
    "cv_alpha",
    "fit_lowrank",
    "fit_mlp",
    "fit_ridge",
    "one_blas_thread",
    "ridge_weights",
]

ALPHA_GRID = tuple(float(10.0**e) for e in np.arange(-4.0, 4.01, 0.5))
CV_FOLDS = 5
PATIENCE = 10
BATCH = 1024
LR = 1e-3
VALID_FRAC = 0.1
MLP_LAYERS = {"mlp1": (512,), "mlp2": (2048, 2048), "mlp3": (2048, 2048, 2048)}

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Probe:
    """A fitted map; ``weights`` for the linear kinds, ``module`` (torch) for the MLPs."""

    capacity: str
    weights: F64 | None = None
    module: Any = None
    device: str = "cpu"
    info: dict[str, Any] = field(default_factory=dict)

    def predict(self, x: F64) -> F64:
        if self.weights is not None:
            return np.asarray(x @ self.weights, dtype=np.float64)
        import torch

        with torch.no_grad():
            parts = [
                self.module(torch.as_tensor(x[s : s + 65536], dtype=torch.float32).to(self.device))
                .cpu()
                .numpy()
                for s in range(0, x.shape[0], 65536)
            ]
        return np.concatenate(parts).astype(np.float64)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the enclosed linear algebra on matrices a few hundred wide on one BLAS thread.

    OpenBLAS's threaded ``eigh`` of a few hundred rows synchronises its threads at every step
    of the tridiagonal reduction: on 2 cores a 384×384 ``eigh`` takes about 0.02 s on one thread,
    0.06 s on two when the machine is idle, and 0.3-3 s on two when other processes (or torch's
    own threads) compete for the cores; the small products around it gain nothing from a second
    thread either. One thread moves results only in the last bits (~1e-15 relative here;
    eigenvector signs, which the ridge solution does not depend on).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def _eig(x: F64) -> tuple[F64, F64]:
    """Eigendecomposition of ``XᵀX`` (clipped at 0): the one decomposition a ridge fit needs."""
    lam, vec = np.linalg.eigh(x.T @ x)
    return np.clip(lam, 0.0, None), vec


def ridge_weights(x: F64, y: F64, alpha: float) -> F64:
    """``(XᵀX + αI)⁻¹ XᵀY`` (α > 0)."""
    with one_blas_thread():
        lam, vec = _eig(x)
        return np.asarray(vec @ ((vec.T @ (x.T @ y)) / (lam + alpha)[:, None]), dtype=np.float64)


def cv_alpha(
    x: F64, y: F64, seed: int, grid: tuple[float, ...] = ALPHA_GRID
) -> tuple[float, dict[str, float]]:
    """The grid α with the smallest 5-fold cross-validated squared error, and every α's error.

    One eigendecomposition of ``X_fitᵀ X_fit = V Λ Vᵀ`` per fold serves every α: the held-out
    prediction is ``(X_held V) diag(1/(λ + α)) (Vᵀ X_fitᵀ Y_fit)``, a product of two matrices
    computed once per fold with a diagonal that changes with α. The whole search runs on one
    BLAS thread (see :func:`one_blas_thread`; its matrices are a few hundred columns wide).
    """
    n = x.shape[0]
    folds = np.array_split(np.random.default_rng([seed, 202]).permutation(n), CV_FOLDS)
    alphas = np.asarray(grid)
    sse = np.zeros(alphas.shape[0])
    with one_blas_thread():
        for held in folds:
            fit = np.ones(n, dtype=bool)
            fit[held] = False
            mx, my = x[fit].mean(axis=0), y[fit].mean(axis=0)
            xf, yf = x[fit] - mx, y[fit] - my
            lam, vec = _eig(xf)
            a = (x[held] - mx) @ vec  # held-out sources in the eigenbasis
            b = vec.T @ (xf.T @ yf)
            yh = y[held] - my
            for j, alpha in enumerate(alphas):
                pred = (a / (lam + alpha)) @ b
                sse[j] += float(((yh - pred) ** 2).sum())
    best = int(np.argmin(sse))
    return float(alphas[best]), {f"{a:g}": float(s) for a, s in zip(alphas, sse, strict=True)}


def _alpha(x: F64, y: F64, alpha: float | None, seed: int) -> tuple[float, dict[str, Any]]:
    if alpha is not None:
        if not alpha > 0:
            raise UsageError(f"--alpha {alpha}: the ridge penalty must be positive")
        return float(alpha), {"alpha_source": "fixed"}
    if x.shape[0] < CV_FOLDS * 2:
        raise UsageError(f"{x.shape[0]} training items are too few for {CV_FOLDS}-fold CV")
    best, errors = cv_alpha(x, y, seed)
    at_edge = best in (ALPHA_GRID[0], ALPHA_GRID[-1])
    return best, {"alpha_source": "cv5", "alpha_at_grid_edge": at_edge, "cv_sse": errors}


def fit_ridge(x: F64, y: F64, *, alpha: float | None = None, seed: int = 0) -> Probe:
    a, info = _alpha(x, y, alpha, seed)
    return Probe("linear", weights=ridge_weights(x, y, a), info={"alpha": a, **info})


def fit_lowrank(x: F64, y: F64, rank: int, *, alpha: float | None = None, seed: int = 0) -> Probe:
    q = y.shape[1]
    if not 1 <= rank <= min(x.shape[1], q):
        raise UsageError(
            f"--rank {rank}: it must lie in 1..{min(x.shape[1], q)} (the smaller view dimension)"
        )
    a, info = _alpha(x, y, alpha, seed)
    w = ridge_weights(x, y, a)
    with one_blas_thread():
        gram = w.T @ (x.T @ (x @ w)) + a * (w.T @ w)
        _, vec = np.linalg.eigh(gram)
    top = vec[:, ::-1][:, :rank]
    return Probe("lowrank", weights=w @ top @ top.T, info={"alpha": a, "rank": rank, **info})


def fit_mlp(
    x: F64,
    y: F64,
    capacity: str,
    *,
    seed: int = 0,
    max_epochs: int = 200,
    device: str = "cpu",
) -> Probe:
    """Train one MLP capacity deterministically (see the module docstring)."""
    import torch
    from torch import nn

    if max_epochs < 1:
        raise UsageError(f"--max-epochs {max_epochs}: give at least 1")
    if device == "cuda":  # deterministic cuBLAS needs this before its first use
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    n = x.shape[0]
    perm = np.random.default_rng([seed, 303]).permutation(n)
    n_valid = max(1, int(np.floor(VALID_FRAC * n)))
    valid, train = np.sort(perm[:n_valid]), np.sort(perm[n_valid:])
    previous = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True, warn_only=True)
    # one CPU thread: the same bits whatever the machine's core count (and faster on 2 cores)
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        widths = (x.shape[1], *MLP_LAYERS[capacity])
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        model = nn.Sequential(*layers, nn.Linear(widths[-1], y.shape[1])).to(device)
        xt = torch.as_tensor(x[train], dtype=torch.float32, device=device)
        yt = torch.as_tensor(y[train], dtype=torch.float32, device=device)
        xv = torch.as_tensor(x[valid], dtype=torch.float32, device=device)
        yv = torch.as_tensor(y[valid], dtype=torch.float32, device=device)
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        gen = torch.Generator().manual_seed(seed)
        loss_fn = nn.MSELoss()
        best, best_epoch, epoch = float("inf"), 0, 0
        best_state = copy.deepcopy(model.state_dict())
        for epoch in range(1, max_epochs + 1):
            model.train()
            order = torch.randperm(xt.shape[0], generator=gen).to(device)
            for s in range(0, xt.shape[0], BATCH):
                idx = order[s : s + BATCH]
                opt.zero_grad()
                loss = loss_fn(model(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                val = float(loss_fn(model(xv), yv))
            if val < best:
                best, best_epoch, best_state = val, epoch, copy.deepcopy(model.state_dict())
            elif epoch - best_epoch >= PATIENCE:
                break
        model.load_state_dict(best_state)
        model.eval()
    finally:
        torch.use_deterministic_algorithms(previous)
        torch.set_num_threads(threads)
    info = {
        "hidden": list(MLP_LAYERS[capacity]),
        "epochs_run": epoch,
        "best_epoch": best_epoch,
        "valid_mse": best,
        "n_valid": int(n_valid),
        "device": device,
    }
    return Probe(capacity, module=model, device=device, info=info)
