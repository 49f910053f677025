"""``carec``: collaborative alignment of a frozen semantic space (CARec / CollabContext, CIKM 2024).

Items start from their frozen, L2-normalised semantic rows ŝ_i; users are free vectors in the
same space. A LightGCN aggregator (``layers`` = 2, symmetric normalisation ``D^{-1/2} A
D^{-1/2}`` of the train graph, mean of the layer outputs) propagates both. With ``ũ``, ``ĩ``
the normalised propagated vectors of the positive pairs of a batch:

- phase 1 (user tutoring): items stay raw ŝ; the user vectors minimise
  ``mean ‖ũ − ĩ‖² + γ · unif(unique users of the batch)``;
- phase 2 (item tutoring): the user vectors are frozen and an adapter on the item side,
  ``Linear(d_s, d) – ReLU – Dropout(0.2) – Linear(d, d) – ReLU – Dropout(0.2) – Linear(d, d_s)``,
  minimises ``mean ‖ũ − ĩ‖² + γ · unif(unique items of the batch)``.

Each phase keeps the epoch with the best validation NDCG@10 (early stopping). Score:
``ũ · ĩ``; a cold item (no edge in the graph) is scored with its raw ŝ_i.

Tuning axis: γ (``TrainParams.weight``), the only weight of the loss. The alignment of the
semantic space to the collaborative signal is phase 2 (the item adapter), so the ablation
(``carec_ablated``) skips phase 2: users tutored on the frozen S only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from complement.core.strategies.common import (
    PhaseResult,
    StrategyData,
    Trained,
    TrainParams,
    Validate,
    alignment,
    batches,
    fit_loop,
    init_normal,
    lightgcn,
    normalized_adjacency,
    optimise,
    start_fit,
    to_numpy,
    uniformity,
    unit_rows,
)

__all__ = ["DEFAULTS", "CARec", "carec_loss", "fit_carec"]

DEFAULTS: dict[str, Any] = {
    "epochs": 10,
    "lr": 1e-2,
    "batch_size": 8192,
    "gamma": 1.0,
    "layers": 2,
    "dropout": 0.2,
}


def carec_loss(
    u: torch.Tensor,
    i: torch.Tensor,
    uniform_rows: torch.Tensor,
    gamma: float = 1.0,
) -> torch.Tensor:
    """Alignment of the pairs plus γ · uniformity of the given (unique) rows."""
    return alignment(u, i) + gamma * uniformity(uniform_rows)


class CARec(torch.nn.Module):
    """User vectors in the semantic space, a frozen S, an item adapter, LightGCN."""

    sem: torch.Tensor

    def __init__(
        self,
        sem: torch.Tensor,
        adj: torch.Tensor,
        n_users: int,
        width: int,
        layers: int,
        dropout: float,
        gen: torch.Generator,
    ) -> None:
        super().__init__()
        ds = sem.shape[1]
        self.register_buffer("sem", sem)
        self.adj = adj
        self.layers = layers
        self.n_users = n_users
        self.user = torch.nn.Parameter(init_normal(n_users, ds, (2.0 / (n_users + ds)) ** 0.5, gen))
        dims = [(ds, width), (width, width), (width, ds)]
        linears = []
        for fan_in, fan_out in dims:
            lin = torch.nn.Linear(fan_in, fan_out)
            with torch.no_grad():
                std = (2.0 / (fan_in + fan_out)) ** 0.5
                lin.weight.copy_(init_normal(fan_out, fan_in, std, gen))
                lin.bias.zero_()
            linears.append(lin)
        self.adapter = torch.nn.Sequential(
            linears[0],
            torch.nn.ReLU(),
            torch.nn.Dropout(dropout),
            linears[1],
            torch.nn.ReLU(),
            torch.nn.Dropout(dropout),
            linears[2],
        )
        self.use_adapter = False

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised propagated user and item vectors (cold items: raw ŝ)."""
        items = self.adapter(self.sem) if self.use_adapter else self.sem
        out = lightgcn(self.adj, torch.cat([self.user, items]), self.layers)
        users, items_out = out[: self.n_users], out[self.n_users :]
        return F.normalize(users, dim=1), F.normalize(items_out, dim=1)


def fit_carec(
    data: StrategyData,
    params: TrainParams,
    *,
    validate: Validate | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Trained:
    device, gen = start_fit(data, params)
    gamma = params.weight_or(float(DEFAULTS["gamma"]))
    sem = unit_rows(data.sem)
    adj = normalized_adjacency(data.users, data.items, data.n_users, data.n_items, device)
    model = CARec(
        torch.from_numpy(sem),
        adj,
        data.n_users,
        params.dim,
        int(DEFAULTS["layers"]),
        float(DEFAULTS["dropout"]),
        gen,
    ).to(device)
    users = torch.from_numpy(data.users).to(device)
    items = torch.from_numpy(data.items).to(device)
    cold = torch.from_numpy(~data.warm).to(device)
    raw = F.normalize(torch.from_numpy(sem).to(device), dim=1)

    def embed() -> tuple[torch.Tensor, torch.Tensor]:
        u, i = model.propagate()
        return u, torch.where(cold[:, None], raw, i)

    def make_epoch(phase: int, opt: torch.optim.Optimizer) -> Callable[[], float]:
        def epoch() -> float:
            total, n = 0.0, 0
            for b in batches(users.shape[0], params.batch_size, gen):
                b = b.to(device)
                u_all, i_all = model.propagate()
                bu, bi = users[b], items[b]
                rows = u_all[torch.unique(bu)] if phase == 1 else i_all[torch.unique(bi)]
                loss = carec_loss(u_all[bu], i_all[bi], rows, gamma)
                total += optimise(opt, loss) * b.shape[0]
                n += b.shape[0]
            return total / n

        return epoch

    def phase_progress(offset: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, _total: progress(offset + done, 2 * params.epochs)

    # phase 1: users learn, items are raw S
    model.adapter.requires_grad_(False)
    opt1 = torch.optim.Adam([model.user], lr=params.lr)
    res1 = fit_loop(
        model,
        make_epoch(1, opt1),
        params.epochs,
        embed=embed,
        validate=validate,
        patience=params.patience,
        progress=phase_progress(0),
    )
    # phase 2: users frozen, the adapter learns (skipped by the ablation)
    res2 = PhaseResult([], 0, None, None)
    if not params.ablated:
        model.user.requires_grad_(False)
        model.adapter.requires_grad_(True)
        model.use_adapter = True
        opt2 = torch.optim.Adam(model.adapter.parameters(), lr=params.lr)
        res2 = fit_loop(
            model,
            make_epoch(2, opt2),
            params.epochs,
            embed=embed,
            validate=validate,
            patience=params.patience,
            progress=phase_progress(params.epochs),
        )
    with torch.no_grad():
        u, i = embed()
    return Trained(
        method="carec",
        users=to_numpy(u),
        items=to_numpy(i),
        loss={"users": res1.loss, "adapter": res2.loss},
        epochs_run={"users": res1.epochs_run, "adapter": res2.epochs_run},
        best_epoch={"users": res1.best_epoch, "adapter": res2.best_epoch},
        best_valid_ndcg10={"users": res1.best_valid, "adapter": res2.best_valid},
        hyper={
            "epochs_per_phase": params.epochs,
            "lr": params.lr,
            "adapter_width": params.dim,
            "embedding_dim": int(sem.shape[1]),
            "batch_size": params.batch_size,
            "gamma": gamma,
            "layers": int(DEFAULTS["layers"]),
            "dropout": float(DEFAULTS["dropout"]),
            "adapter_phase": not params.ablated,
            "patience": params.patience if validate is not None else None,
            "seed": params.seed,
            "optimizer": "Adam",
        },
        notes=(
            "users and items live in the semantic space (dimension of S); --dim is the width "
            "of the item adapter",
            "cold items are scored with their raw (normalised) S row, as in the paper",
        ),
    )
