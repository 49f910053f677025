"""``directau``: alignment and uniformity on the hypersphere (Wang et al., KDD 2022).

Users are free vectors; items are encoded from both views, ``ĩ = normalize(ŝ_i W_s + ĉ_i W_c)``
(ŝ, ĉ: the L2-normalised rows of S and C), and the encoder and users minimise

    L = mean_{(u,i) ∈ batch} ‖ũ − ĩ‖² + γ · (unif(ũ_batch) + unif(ĩ_batch)) / 2,
    unif(X) = log mean_{r<r'} exp(−2 ‖x_r − x_r'‖²)

over the rows of each batch (duplicates included, as in the DirectAU code). A cold item has
no collaborative row: ĉ_i is predicted from ŝ_i by ridge regression on the warm items (α = 1)
and encoded like any other item. Score: ``ũ · ĩ`` (cosine).

Tuning axis: γ (``TrainParams.weight``). DirectAU has no term that aligns the two views (its
alignment is between users and items); what brings S in is the item encoder, so the ablation
(``directau_ablated``) drops the semantic input: ``ĩ = normalize(ĉ_i W_c)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from complement.core.strategies.common import (
    StrategyData,
    Trained,
    TrainParams,
    Validate,
    alignment,
    batches,
    fit_loop,
    init_normal,
    optimise,
    ridge_map,
    start_fit,
    to_numpy,
    uniformity,
    unit_rows,
)

__all__ = ["DEFAULTS", "DirectAU", "directau_loss", "fit_directau"]

#: defaults used when --epochs / --lr are not given, and fixed constants
DEFAULTS: dict[str, Any] = {"epochs": 10, "lr": 1e-2, "batch_size": 1024, "gamma": 1.0}


def directau_loss(u: torch.Tensor, i: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """DirectAU on already normalised user and item rows of the positive pairs of a batch."""
    return alignment(u, i) + gamma * (uniformity(u) + uniformity(i)) / 2


class DirectAU(torch.nn.Module):
    """Free user vectors and a linear two-view item encoder."""

    sem: torch.Tensor
    cf: torch.Tensor

    def __init__(
        self,
        sem: torch.Tensor,
        cf: torch.Tensor,
        n_users: int,
        dim: int,
        gen: torch.Generator,
        *,
        use_sem: bool = True,
    ) -> None:
        super().__init__()
        self.use_sem = use_sem
        self.register_buffer("sem", sem)
        self.register_buffer("cf", cf)
        self.user = torch.nn.Parameter(init_normal(n_users, dim, 0.1, gen))
        ds, dc = sem.shape[1], cf.shape[1]
        self.w_sem = torch.nn.Parameter(init_normal(ds, dim, (2.0 / (ds + dim)) ** 0.5, gen))
        self.w_cf = torch.nn.Parameter(init_normal(dc, dim, (2.0 / (dc + dim)) ** 0.5, gen))

    def users(self, idx: torch.Tensor | None = None) -> torch.Tensor:
        u = self.user if idx is None else self.user[idx]
        return F.normalize(u, dim=1)

    def items(self, idx: torch.Tensor | None = None) -> torch.Tensor:
        sem = self.sem if idx is None else self.sem[idx]
        cf = self.cf if idx is None else self.cf[idx]
        out = cf @ self.w_cf
        if self.use_sem:
            out = out + sem @ self.w_sem
        return F.normalize(out, dim=1)


def fit_directau(
    data: StrategyData,
    params: TrainParams,
    *,
    validate: Validate | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Trained:
    device, gen = start_fit(data, params)
    sem = unit_rows(data.sem)
    cf = unit_rows(data.cf)
    cold = ~data.warm
    if cold.any():
        cf[cold] = ridge_map(sem[data.warm], cf[data.warm], sem[cold])
    gamma = params.weight_or(float(DEFAULTS["gamma"]))
    model = DirectAU(
        torch.from_numpy(sem),
        torch.from_numpy(cf),
        data.n_users,
        params.dim,
        gen,
        use_sem=not params.ablated,
    ).to(device)
    trainable = [p for n, p in model.named_parameters() if n != "w_sem" or not params.ablated]
    opt = torch.optim.Adam(trainable, lr=params.lr)
    users = torch.from_numpy(data.users).to(device)
    items = torch.from_numpy(data.items).to(device)

    def epoch() -> float:
        total, n = 0.0, 0
        for b in batches(users.shape[0], params.batch_size, gen):
            b = b.to(device)
            loss = directau_loss(model.users(users[b]), model.items(items[b]), gamma)
            total += optimise(opt, loss) * b.shape[0]
            n += b.shape[0]
        return total / n

    def embed() -> tuple[torch.Tensor, torch.Tensor]:
        return model.users(), model.items()

    res = fit_loop(
        model,
        epoch,
        params.epochs,
        embed=embed,
        validate=validate,
        patience=params.patience,
        progress=progress,
    )
    with torch.no_grad():
        u, i = embed()
    return Trained(
        method="directau",
        users=to_numpy(u),
        items=to_numpy(i),
        loss={"train": res.loss},
        epochs_run={"train": res.epochs_run},
        best_epoch={"train": res.best_epoch},
        best_valid_ndcg10={"train": res.best_valid},
        hyper={
            "epochs": params.epochs,
            "lr": params.lr,
            "dim": params.dim,
            "batch_size": params.batch_size,
            "gamma": gamma,
            "semantic_input": not params.ablated,
            "patience": params.patience if validate is not None else None,
            "seed": params.seed,
            "optimizer": "Adam",
            "user_init": "N(0, 0.1^2)",
        },
        notes=(
            "items are encoded linearly from both views (DirectAU's MF has free item vectors); "
            "cold items get their collaborative row predicted from S by ridge regression on "
            "the warm items (alpha = 1)",
        ),
    )
