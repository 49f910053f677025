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
  With ``epochs`` (the paper's protocol, ``--no-early-stop``): exactly that many epochs on all
  training items, no holdout, the last weights kept. On the CPU the MLPs train and predict
  with denormals flushed to zero (:mod:`complement.core.denormals`).
"""

from __future__ import annotations

import copy
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.denormals import flush_denormals
from complement.errors import UsageError
from complement.retrieval.pool import one_blas_thread

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
    "torch_session",
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
        if self.weights is not None:  # one BLAS thread: see the note below the class
            with one_blas_thread():
                return np.asarray(x @ self.weights, dtype=np.float64)
        import torch

        # one torch thread, as in training: with two, the products of the 2048-wide layers
        # split differently and the last bits would depend on the machine's core count
        with torch_session(), flush_denormals(self.device), torch.no_grad():
            parts = [
                self.module(torch.as_tensor(x[s : s + 65536], dtype=torch.float32).to(self.device))
                .cpu()
                .numpy()
                for s in range(0, x.shape[0], 65536)
            ]
        return np.concatenate(parts).astype(np.float64)


# one_blas_thread (from complement.retrieval.pool): the linear algebra on matrices a few hundred
# wide runs on one BLAS thread. OpenBLAS's threaded ``eigh`` of a few hundred rows synchronises
# its threads at every step of the tridiagonal reduction: on 2 cores a 384×384 ``eigh`` takes
# about 0.02 s on one thread, 0.06 s on two when the machine is idle, and 0.3-3 s on two when
# other processes (or torch's own threads) compete for the cores; the small products around it
# gain nothing from a second thread either. One thread moves results only in the last bits
# (~1e-15 relative here; eigenvector signs, which the ridge solution does not depend on).
# A linear probe's predictions (``Probe.predict``, a few hundred columns) run on one thread
# too: after each threaded call OpenBLAS's idle thread spins for about 0.1 s (its thread
# timeout, 2**28 cycles) before it sleeps, CPU taken from the other work of a busy report.


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
            raise UsageError(f"--ridge-alpha {alpha}: the ridge penalty must be positive")
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


_SESSION_LOCK = threading.Lock()
_INIT_LOCK = threading.Lock()
_session: dict[str, Any] = {"depth": 0, "saved": None}


def _set_deterministic(torch: Any, mode: bool, warn_only: bool) -> None:
    """``torch.use_deterministic_algorithms`` without importing ``torch._inductor``.

    The public call imports ``torch._inductor.config`` (about 0.8 s here) only to copy the flag
    into torch.compile's configuration; the probe never compiles, so the flag is set on the
    dispatcher directly unless inductor is already loaded (then the public call, which is free).
    """
    direct = getattr(torch._C, "_set_deterministic_algorithms", None)
    if direct is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(mode, warn_only=warn_only)
    else:
        direct(mode, warn_only=warn_only)


@contextmanager
def torch_session() -> Iterator[None]:
    """Deterministic algorithms and one intra-op CPU thread while any MLP fit runs.

    One thread gives the same bits whatever the machine's core count (and is faster on 2
    cores). The state is process-wide: nested and concurrent sessions (the probe trains the
    shift's and the reference's MLP in two threads) share it, and the last one out restores
    what was there before the first came in.
    """
    import torch

    with _SESSION_LOCK:
        if _session["depth"] == 0:
            _session["saved"] = (
                torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.get_num_threads(),
            )
            _set_deterministic(torch, True, True)
            torch.set_num_threads(1)
        _session["depth"] += 1
    try:
        yield
    finally:
        with _SESSION_LOCK:
            _session["depth"] -= 1
            if _session["depth"] == 0:
                mode, warn_only, threads = _session["saved"]
                _set_deterministic(torch, mode, warn_only)
                torch.set_num_threads(threads)


class _CpuAdam:
    """Adam (lr, betas 0.9 / 0.999, eps 1e-8) doing exactly what ``torch.optim.Adam`` does on CPU.

    On CPU torch.optim.Adam takes its single-tensor path, reproduced here operation for
    operation (tests assert identical bits after many steps). It exists because any
    ``torch.optim`` optimizer imports ``torch._dynamo`` and ``torch._inductor`` on first use
    (about 0.8 s, a tenth of the fixture's whole report) for torch.compile, which the probe
    never uses. Other devices use ``torch.optim.Adam`` itself (its multi-tensor path).
    """

    def __init__(self, params: Any, lr: float) -> None:
        self.params = list(params)
        self.lr, self.beta1, self.beta2, self.eps = lr, 0.9, 0.999, 1e-8
        self.state: list[tuple[Any, Any, Any]] = []

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        import torch

        with torch.no_grad():
            if not self.state:
                self.state = [
                    (torch.tensor(0.0), torch.zeros_like(p), torch.zeros_like(p))
                    for p in self.params
                ]
            for p, (step_t, exp_avg, exp_avg_sq) in zip(self.params, self.state, strict=True):
                grad = p.grad
                step_t += 1
                exp_avg.lerp_(grad, 1 - self.beta1)
                exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
                step = step_t.item()
                bias_correction1 = 1 - self.beta1**step
                bias_correction2 = 1 - self.beta2**step
                step_size = self.lr / bias_correction1
                denom = (exp_avg_sq.sqrt() / bias_correction2**0.5).add_(self.eps)
                p.addcdiv_(exp_avg, denom, value=-step_size)


def _optimizer(model: Any, device: str) -> Any:
    import torch

    if torch.device(device).type == "cpu":
        return _CpuAdam(model.parameters(), lr=LR)
    return torch.optim.Adam(model.parameters(), lr=LR)


def _model(x_dim: int, y_dim: int, capacity: str, seed: int, device: str) -> Any:
    """The seeded MLP (built under a lock: its initialisation draws from torch's global RNG)."""
    import torch
    from torch import nn

    widths = (x_dim, *MLP_LAYERS[capacity])
    with _INIT_LOCK:
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(widths[-1], y_dim)).to(device)


def fit_mlp(
    x: F64,
    y: F64,
    capacity: str,
    *,
    seed: int = 0,
    max_epochs: int = 200,
    device: str = "cpu",
    epochs: int | None = None,
) -> Probe:
    """Train one MLP capacity deterministically (see the module docstring).

    ``epochs=None``: early stopping on a seeded holdout, at most ``max_epochs``; an integer:
    exactly that many epochs on every training item, no holdout (the paper's protocol).
    """
    import torch
    from torch import nn

    if epochs is None and max_epochs < 1:
        raise UsageError(f"--max-epochs {max_epochs}: give at least 1")
    if epochs is not None and epochs < 1:
        raise UsageError(f"--epochs {epochs}: give at least 1")
    if device == "cuda":  # deterministic cuBLAS needs this before its first use
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    n = x.shape[0]
    if epochs is None:
        perm = np.random.default_rng([seed, 303]).permutation(n)
        n_valid = max(1, int(np.floor(VALID_FRAC * n)))
        valid, train = np.sort(perm[:n_valid]), np.sort(perm[n_valid:])
    else:
        n_valid, valid, train = 0, np.zeros(0, dtype=np.int64), np.arange(n)
    with torch_session(), flush_denormals(device):
        model = _model(x.shape[1], y.shape[1], capacity, seed, device)
        xt = torch.as_tensor(x[train], dtype=torch.float32, device=device)
        yt = torch.as_tensor(y[train], dtype=torch.float32, device=device)
        xv = torch.as_tensor(x[valid], dtype=torch.float32, device=device)
        yv = torch.as_tensor(y[valid], dtype=torch.float32, device=device)
        opt = _optimizer(model, device)
        gen = torch.Generator().manual_seed(seed)
        loss_fn = nn.MSELoss()
        best, best_epoch, epoch = float("inf"), 0, 0
        best_state = copy.deepcopy(model.state_dict()) if epochs is None else None
        for epoch in range(1, (max_epochs if epochs is None else epochs) + 1):
            model.train()
            order = torch.randperm(xt.shape[0], generator=gen).to(device)
            for s in range(0, xt.shape[0], BATCH):
                idx = order[s : s + BATCH]
                opt.zero_grad()
                loss = loss_fn(model(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
            if epochs is not None:
                continue
            model.eval()
            with torch.no_grad():
                val = float(loss_fn(model(xv), yv))
            if val < best:
                best, best_epoch, best_state = val, epoch, copy.deepcopy(model.state_dict())
            elif epoch - best_epoch >= PATIENCE:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        if epochs is not None:
            with torch.no_grad():
                train_mse = float(loss_fn(model(xt), yt))
    if epochs is None:
        info: dict[str, Any] = {
            "hidden": list(MLP_LAYERS[capacity]),
            "epochs_run": epoch,
            "best_epoch": best_epoch,
            "valid_mse": best,
            "n_valid": int(n_valid),
            "device": device,
        }
    else:
        info = {
            "hidden": list(MLP_LAYERS[capacity]),
            "early_stop": False,
            "epochs_run": epoch,
            "train_mse": train_mse,
            "n_valid": 0,
            "device": device,
        }
    return Probe(capacity, module=model, device=device, info=info)
