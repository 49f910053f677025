"""What the trained systems share: inputs, losses, graph propagation, the epoch loop.

Everything random is seeded: parameters are initialised and batches and negatives drawn from
one ``torch.Generator`` on the CPU (then moved to the device), and ``torch.manual_seed`` is
set at the start of every fit for dropout. Training on the CPU runs on one thread
(:func:`single_thread`), so the same inputs and seed give bit-identical embeddings on any
machine; CUDA kernels may differ in the last bits.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import torch

from complement.errors import DeviceError, UsageError

__all__ = [
    "FloatArray",
    "PhaseResult",
    "StrategyData",
    "TrainParams",
    "Trained",
    "Validate",
    "alignment",
    "batches",
    "bpr_loss",
    "fit_loop",
    "init_normal",
    "lightgcn",
    "normalized_adjacency",
    "optimise",
    "pair_keys",
    "ridge_map",
    "sample_negatives",
    "single_thread",
    "start_fit",
    "to_numpy",
    "torch_device",
    "uniformity",
    "unit_rows",
    "user_means",
]

FloatArray = npt.NDArray[np.float32]
#: (user vectors, item vectors) -> validation NDCG@10; higher is better
Validate = Callable[[FloatArray, FloatArray], float]


@dataclass(frozen=True)
class StrategyData:
    """Inputs of every strategy, in item-index space of the joined views.

    ``sem``/``cf``: the two views (one row per item). ``users``/``items``: the training pairs
    (user code, item index), warm items only. ``warm[i]`` is False for cold items, which no
    strategy may learn from (their collaborative row is treated as unknown).
    """

    sem: FloatArray
    cf: FloatArray
    users: npt.NDArray[np.int64]
    items: npt.NDArray[np.int64]
    n_users: int
    warm: npt.NDArray[np.bool_]

    @property
    def n_items(self) -> int:
        return int(self.sem.shape[0])

    def check(self) -> None:
        if self.cf.shape[0] != self.sem.shape[0] or self.warm.shape[0] != self.sem.shape[0]:
            raise UsageError("strategies: the two views and the warm mask must share their items")
        if self.users.shape[0] == 0:
            raise UsageError("strategies: no training interactions; check the split and the log")
        if self.users.shape[0] != self.items.shape[0]:
            raise UsageError("strategies: users and items of the training pairs differ in length")
        if not self.warm[self.items].all():
            raise UsageError("strategies: a training pair names a cold item")
        if int(self.users.max()) >= self.n_users or int(self.users.min()) < 0:
            raise UsageError("strategies: a training pair names a user code out of range")


@dataclass(frozen=True)
class TrainParams:
    """Hyper-parameters common to every strategy (the rest are per-strategy constants)."""

    epochs: int
    lr: float
    dim: int
    seed: int = 0
    device: str = "cpu"
    batch_size: int = 2048
    patience: int = 5
    #: the strategy's second tuning axis (its alignment weight; None: its default)
    weight: float | None = None
    #: the strategy's alignment terms off (its ``<method>_ablated`` row)
    ablated: bool = False

    def weight_or(self, default: float) -> float:
        """The tuned weight, else the strategy's default."""
        return float(default if self.weight is None else self.weight)

    def check(self) -> None:
        if self.epochs < 1:
            raise UsageError(f"--epochs {self.epochs}: give at least 1 epoch")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise UsageError(f"--lr {self.lr}: the learning rate must be a positive number")
        if self.dim < 1:
            raise UsageError(f"--dim {self.dim}: the embedding dimension must be positive")
        if self.weight is not None and not (self.weight >= 0 and math.isfinite(self.weight)):
            raise UsageError(f"weight {self.weight}: a loss weight must be a number >= 0")


@dataclass(frozen=True)
class Trained:
    """What a strategy learned: ``users @ items.T`` is its score (rows of all items/users)."""

    method: str
    users: FloatArray
    items: FloatArray
    loss: dict[str, list[float]]
    epochs_run: dict[str, int]
    best_epoch: dict[str, int | None]
    best_valid_ndcg10: dict[str, float | None]
    hyper: dict[str, Any]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "dim_users": int(self.users.shape[1]),
            "dim_items": int(self.items.shape[1]),
            "hyper": dict(self.hyper),
            "epochs_run": dict(self.epochs_run),
            "best_epoch": dict(self.best_epoch),
            "best_valid_ndcg10": dict(self.best_valid_ndcg10),
            "loss_first": {k: (v[0] if v else None) for k, v in self.loss.items()},
            "loss_last": {k: (v[-1] if v else None) for k, v in self.loss.items()},
            "loss": {k: list(v) for k, v in self.loss.items()},
            "notes": list(self.notes),
        }


def torch_device(device: str) -> torch.device:
    """``auto`` -> CUDA when usable else CPU; ``cuda`` without a GPU is a DeviceError."""
    if device not in ("auto", "cpu", "cuda"):
        raise UsageError(f"unknown --device {device!r}: choose auto, cpu or cuda")
    if device == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if device == "cuda":
        raise DeviceError(
            "--device cuda: no usable CUDA GPU here (torch.cuda.is_available() is False); "
            "use --device cpu or --device auto"
        )
    return torch.device("cpu")


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one CPU thread, restoring the previous setting afterwards.

    The models are small: one thread gives the same bits on every machine whatever its number
    of cores, and avoids the collapse of OpenMP threads on a shared, oversubscribed CPU.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def start_fit(data: StrategyData, params: TrainParams) -> tuple[torch.device, torch.Generator]:
    """Check the inputs, resolve the device, seed torch's global RNG (dropout) and return a
    fresh generator for initialisation, batches and negatives: the start of every fit."""
    data.check()
    params.check()
    device = torch_device(params.device)
    torch.manual_seed(params.seed)
    return device, torch.Generator().manual_seed(params.seed)


def to_numpy(x: torch.Tensor) -> FloatArray:
    return np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())


def unit_rows(x: npt.NDArray[Any]) -> FloatArray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero)."""
    arr = np.asarray(x, dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", arr, arr))
    out = arr / np.where(norms > 0, norms, 1.0)[:, None]
    return out.astype(np.float32)


def init_normal(rows: int, cols: int, std: float, gen: torch.Generator) -> torch.Tensor:
    out = torch.empty(rows, cols)
    torch.nn.init.normal_(out, 0.0, std, generator=gen)
    return out


# --- losses ----------------------------------------------------------------------------------


def alignment(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean over rows of ``‖x_r − y_r‖²`` (DirectAU's alignment, α = 2)."""
    return (x - y).pow(2).sum(dim=1).mean()


def uniformity(x: torch.Tensor, t: float = 2.0) -> torch.Tensor:
    """``log mean_{r<r'} exp(−t ‖x_r − x_r'‖²)`` over distinct row pairs (0 for < 2 rows)."""
    if x.shape[0] < 2:
        return x.sum() * 0.0
    return torch.pdist(x, p=2).pow(2).mul(-t).exp().mean().log()


def optimise(opt: torch.optim.Optimizer, loss: torch.Tensor) -> float:
    """One optimiser step on ``loss``; returns its value."""
    opt.zero_grad()
    loss.backward()  # type: ignore[no-untyped-call]
    opt.step()
    return float(loss.detach())


def bpr_loss(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Mean of ``−log σ(pos − neg)``."""
    return -torch.nn.functional.logsigmoid(pos - neg).mean()


# --- data helpers ----------------------------------------------------------------------------


def batches(n: int, size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """A seeded random order of ``range(n)`` cut into batches of ``size`` (last one shorter)."""
    order = torch.randperm(n, generator=gen)
    for start in range(0, n, size):
        yield order[start : start + size]


def pair_keys(
    users: npt.NDArray[np.int64], items: npt.NDArray[np.int64], n_items: int
) -> torch.Tensor:
    """Sorted distinct keys ``user * n_items + item`` of the training pairs (CPU)."""
    return torch.from_numpy(np.unique(users * n_items + items).astype(np.int64))


def sample_negatives(
    users: torch.Tensor,
    pool: torch.Tensor,
    known: torch.Tensor,
    n_items: int,
    gen: torch.Generator,
    tries: int = 20,
) -> torch.Tensor:
    """One item per user drawn uniformly from ``pool``, redrawn while the user has it in train.

    ``known`` holds the sorted keys ``user * n_items + item`` of the training pairs. After
    ``tries`` redraws a remaining collision is kept (only users who saw nearly every item).
    """
    neg = pool[torch.randint(0, pool.shape[0], (users.shape[0],), generator=gen)]
    for _ in range(tries):
        keys = users * n_items + neg
        pos = torch.searchsorted(known, keys).clamp(max=known.shape[0] - 1)
        clash = known[pos] == keys
        n_clash = int(clash.sum())
        if n_clash == 0:
            break
        neg[clash] = pool[torch.randint(0, pool.shape[0], (n_clash,), generator=gen)]
    return neg


def user_means(
    sem: FloatArray, users: npt.NDArray[np.int64], items: npt.NDArray[np.int64], n_users: int
) -> FloatArray:
    """Row u: mean of ``sem`` over user u's training items (zeros for users without any)."""
    ones = np.ones(users.shape[0], dtype=np.float64)
    mat = sp.csr_matrix((ones, (users, items)), shape=(n_users, sem.shape[0]))
    counts = np.asarray(mat.sum(axis=1)).ravel()
    scaled = sp.diags(1.0 / np.where(counts > 0, counts, 1.0)) @ mat
    return np.asarray(scaled @ np.asarray(sem, dtype=np.float64), dtype=np.float32)


def ridge_map(
    x_fit: FloatArray, y_fit: FloatArray, x_new: FloatArray, alpha: float = 1.0
) -> FloatArray:
    """``x_new @ B`` with ``B = (XᵀX + αI)⁻¹ Xᵀ Y`` fitted on (x_fit, y_fit), in float64."""
    x = np.asarray(x_fit, dtype=np.float64)
    gram = x.T @ x + alpha * np.eye(x.shape[1])
    coef = np.linalg.solve(gram, x.T @ np.asarray(y_fit, dtype=np.float64))
    return np.asarray(np.asarray(x_new, dtype=np.float64) @ coef, dtype=np.float32)


# --- LightGCN --------------------------------------------------------------------------------


def normalized_adjacency(
    users: npt.NDArray[np.int64],
    items: npt.NDArray[np.int64],
    n_users: int,
    n_items: int,
    device: torch.device,
) -> torch.Tensor:
    """``D^{-1/2} A D^{-1/2}`` of the bipartite train graph over ``n_users + n_items`` nodes.

    Nodes without edges (cold items, users without train pairs) get degree 1 and no edges.
    """
    n = n_users + n_items
    rows = np.concatenate([users, items + n_users])
    cols = np.concatenate([items + n_users, users])
    deg = np.bincount(rows, minlength=n).astype(np.float64)
    inv = 1.0 / np.sqrt(np.where(deg > 0, deg, 1.0))
    vals = inv[rows] * inv[cols]
    mat = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr().tocoo()
    indices = torch.from_numpy(np.vstack([mat.row, mat.col]).astype(np.int64))
    values = torch.from_numpy(mat.data.astype(np.float32))
    adj = torch.sparse_coo_tensor(indices, values, size=(n, n), check_invariants=True)
    return adj.coalesce().to(device)


def lightgcn(adj: torch.Tensor, ego: torch.Tensor, layers: int) -> torch.Tensor:
    """Mean of the layer outputs ``ego, Â ego, …, Â^L ego`` (LightGCN, no weights)."""
    out = ego
    total = ego
    for _ in range(layers):
        out = adj @ out
        total = total + out
    return total / (layers + 1)


# --- the epoch loop --------------------------------------------------------------------------


@dataclass
class PhaseResult:
    loss: list[float]
    epochs_run: int
    best_epoch: int | None
    best_valid: float | None


def fit_loop(
    module: torch.nn.Module,
    epoch: Callable[[], float],
    epochs: int,
    *,
    embed: Callable[[], tuple[torch.Tensor, torch.Tensor]] | None = None,
    validate: Validate | None = None,
    patience: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> PhaseResult:
    """Run ``epoch()`` up to ``epochs`` times; with ``validate``, keep the best epoch's weights.

    Early stopping: after each epoch the validation NDCG@10 of ``embed()`` is computed; the
    trainable state of ``module`` at the best epoch (first best on ties) is restored at the
    end, and training stops after ``patience`` epochs without improvement.
    """
    losses: list[float] = []
    best: float | None = None
    best_epoch: int | None = None
    best_state: dict[str, Any] | None = None
    since = 0
    for e in range(1, epochs + 1):
        module.train()
        losses.append(float(epoch()))
        if progress is not None:
            progress(e, epochs)
        if validate is None or embed is None:
            continue
        module.eval()
        with torch.no_grad():
            u, i = embed()
        score = float(validate(to_numpy(u), to_numpy(i)))
        if best is None or score > best:
            best, best_epoch, since = score, e, 0
            best_state = copy.deepcopy(module.state_dict())
        else:
            since += 1
            if since >= patience:
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return PhaseResult(losses, len(losses), best_epoch, best)
