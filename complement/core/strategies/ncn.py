"""``ncn``, ``semproj``, ``lightgcn``: the paper's trained fusion and its two branches.

One dual-branch model (the paper's "naive fusion", norm-concat-norm of two trained branches):

- semantic branch: a linear projection ``W`` (``d_s → d``, with bias) of the L2-normalised
  rows ŝ_i for items, and of ``s̄_u`` = the normalised mean of ŝ over the user's train items
  for users; each output L2-normalised;
- collaborative branch: free user and item vectors (``d``, Xavier-normal, seeded) propagated by
  LightGCN (2 layers, ``D^{-1/2} A D^{-1/2}`` of the train graph, mean of the layer outputs),
  each output L2-normalised;
- ``ncn``: both branches, concatenated ``[collaborative; semantic]`` and normalised again
  (dimension ``2 d``, the paper's 128 = 64 + 64); ``semproj``: the semantic branch alone;
  ``lightgcn``: the collaborative branch alone (dimension ``d`` each).

Loss (the same for the three): InfoNCE against hard negatives. For each positive pair (u, i)
of a batch, 512 candidates are drawn uniformly from the warm items (a candidate equal to i is
replaced by the next warm item), the 256 with the highest current score ``u · j`` are kept
(mined without gradient), and ``L = CE([u·i, u·j_1, …, u·j_256] / τ, 0)``, τ = 0.15. AdamW
(lr 1e-3, weight decay 1e-4), batches of 2048 pairs, early stopping on validation NDCG@10.
Score: inner product of the exported (unit) vectors, i.e. cosine.

Cold items (no train edge): the semantic branch projects their S row like any other item; the
collaborative branch has no edge and no trained vector for them, so their collaborative part is
zero. ``ncn`` then scores a cold item by its semantic branch alone (the concatenation is
renormalised); ``lightgcn`` gives every cold item the score 0 (ties, ranked by item index), so
it cannot rank cold items: its cold-setting numbers measure the order of the item index (which
may correlate with age or popularity), not the model. Tuning axis: the learning rate only
(no alignment term).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from complement.core.strategies.common import (
    StrategyData,
    Trained,
    TrainParams,
    Validate,
    batches,
    fit_loop,
    init_normal,
    lightgcn,
    normalized_adjacency,
    optimise,
    start_fit,
    to_numpy,
    unit_rows,
    user_means,
)

__all__ = [
    "BRANCHES",
    "DEFAULTS",
    "DualBranch",
    "fit_lightgcn",
    "fit_ncn",
    "fit_semproj",
    "hard_negatives",
    "info_nce_hard",
]

DEFAULTS: dict[str, Any] = {
    "epochs": 10,
    "lr": 1e-3,
    "batch_size": 2048,
    "temperature": 0.15,
    "weight_decay": 1e-4,
    "negatives": 256,
    "candidates": 512,
    "layers": 2,
}

#: method -> the branches it trains
BRANCHES: dict[str, tuple[str, ...]] = {
    "ncn": ("collaborative", "semantic"),
    "semproj": ("semantic",),
    "lightgcn": ("collaborative",),
}


def info_nce_hard(pos: torch.Tensor, neg: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over rows of ``CE([pos_r, neg_r1, …] / τ, 0)`` (the positive is class 0)."""
    logits = torch.cat([pos[:, None], neg], dim=1) / temperature
    target = torch.zeros(pos.shape[0], dtype=torch.long, device=pos.device)
    return F.cross_entropy(logits, target)


def hard_negatives(
    scores: torch.Tensor, positives: torch.Tensor, pool: torch.Tensor, n_cand: int, n_neg: int,
    gen: torch.Generator,
) -> torch.Tensor:  # fmt: skip
    """Per row, ``n_neg`` of ``n_cand`` uniform draws from ``pool`` with the highest score.

    ``scores`` (rows × all items) is read without gradient; a draw equal to the row's positive
    is replaced by the next item of the pool (``torch.topk``: the order of the kept negatives
    does not matter to the loss).
    """
    rows = positives.shape[0]
    draw = torch.randint(0, pool.shape[0], (rows, n_cand), generator=gen)
    cand = pool[draw].to(scores.device)
    clash = cand == positives[:, None]
    cand = torch.where(clash, pool[(draw + 1) % pool.shape[0]].to(scores.device), cand)
    cand_scores = scores.detach().gather(1, cand)
    top = torch.topk(cand_scores, min(n_neg, n_cand), dim=1).indices
    return cand.gather(1, top)


class DualBranch(torch.nn.Module):
    """The semantic projection and/or the LightGCN branch, each normalised, concatenated."""

    sem_items: torch.Tensor
    sem_users: torch.Tensor
    cold: torch.Tensor

    def __init__(
        self,
        branches: tuple[str, ...],
        sem_items: torch.Tensor,
        sem_users: torch.Tensor,
        cold: torch.Tensor,
        adj: torch.Tensor,
        dim: int,
        layers: int,
        gen: torch.Generator,
    ) -> None:
        super().__init__()
        self.branches = branches
        self.register_buffer("sem_items", sem_items)
        self.register_buffer("sem_users", sem_users)
        self.register_buffer("cold", cold)
        self.adj = adj
        self.layers = layers
        n_users, n_items, ds = sem_users.shape[0], sem_items.shape[0], sem_items.shape[1]
        self.n_users = n_users
        self.project = torch.nn.Linear(ds, dim)
        with torch.no_grad():
            bound = (6.0 / (ds + dim)) ** 0.5
            self.project.weight.copy_(torch.rand(dim, ds, generator=gen) * 2 * bound - bound)
            self.project.bias.zero_()
        std_u, std_i = (2.0 / (n_users + dim)) ** 0.5, (2.0 / (n_items + dim)) ** 0.5
        self.user = torch.nn.Parameter(init_normal(n_users, dim, std_u, gen))
        self.item = torch.nn.Parameter(init_normal(n_items, dim, std_i, gen))
        if "semantic" not in branches:
            self.project.requires_grad_(False)
        if "collaborative" not in branches:
            self.user.requires_grad_(False)
            self.item.requires_grad_(False)

    def semantic(self) -> tuple[torch.Tensor, torch.Tensor]:
        return (
            F.normalize(self.project(self.sem_users), dim=1),
            F.normalize(self.project(self.sem_items), dim=1),
        )

    def collaborative(self) -> tuple[torch.Tensor, torch.Tensor]:
        out = lightgcn(self.adj, torch.cat([self.user, self.item]), self.layers)
        users, items = out[: self.n_users], out[self.n_users :]
        items = torch.where(self.cold[:, None], torch.zeros_like(items), items)
        return F.normalize(users, dim=1), F.normalize(items, dim=1)

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [self.collaborative() if b == "collaborative" else self.semantic()
                 for b in self.branches]  # fmt: skip
        if len(parts) == 1:
            return parts[0]
        users = torch.cat([p[0] for p in parts], dim=1)
        items = torch.cat([p[1] for p in parts], dim=1)
        return F.normalize(users, dim=1), F.normalize(items, dim=1)


def _fit(
    method: str,
    data: StrategyData,
    params: TrainParams,
    *,
    validate: Validate | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Trained:
    device, gen = start_fit(data, params)
    branches = BRANCHES[method]
    sem = unit_rows(data.sem)
    s_users = unit_rows(user_means(sem, data.users, data.items, data.n_users))
    adj = normalized_adjacency(data.users, data.items, data.n_users, data.n_items, device)
    layers = int(DEFAULTS["layers"])
    model = DualBranch(
        branches,
        torch.from_numpy(sem),
        torch.from_numpy(s_users),
        torch.from_numpy(~data.warm),
        adj,
        params.dim,
        layers,
        gen,
    ).to(device)
    tau, decay = float(DEFAULTS["temperature"]), float(DEFAULTS["weight_decay"])
    n_neg, n_cand = int(DEFAULTS["negatives"]), int(DEFAULTS["candidates"])
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=params.lr, weight_decay=decay)
    users = torch.from_numpy(data.users).to(device)
    items = torch.from_numpy(data.items).to(device)
    pool = torch.from_numpy(np.flatnonzero(data.warm))

    def epoch() -> float:
        total, n = 0.0, 0
        for b in batches(users.shape[0], params.batch_size, gen):
            u_all, i_all = model()
            bu, bi = users[b.to(device)], items[b.to(device)]
            scores = u_all[bu] @ i_all.T
            neg = hard_negatives(scores, bi, pool, n_cand, n_neg, gen)
            loss = info_nce_hard(scores.gather(1, bi[:, None])[:, 0], scores.gather(1, neg), tau)
            total += optimise(opt, loss) * b.shape[0]
            n += b.shape[0]
        return total / n

    res = fit_loop(
        model,
        epoch,
        params.epochs,
        embed=model,
        validate=validate,
        patience=params.patience,
        progress=progress,
    )
    with torch.no_grad():
        u, i = model()
    cold_note = {
        "ncn": "cold items have no edge: their collaborative part is zero, so they are scored "
        "by the semantic branch alone",
        "semproj": "cold items are projected from their S row like any other item",
        "lightgcn": "cold items have no edge and no trained vector: their vector is zero (score "
        "0, ties ranked by item index), so lightgcn cannot rank cold items; its cold-setting "
        "numbers measure the order of the item index, not the model",
    }[method]
    return Trained(
        method=method,
        users=to_numpy(u),
        items=to_numpy(i),
        loss={"train": res.loss},
        epochs_run={"train": res.epochs_run},
        best_epoch={"train": res.best_epoch},
        best_valid_ndcg10={"train": res.best_valid},
        hyper={
            "epochs": params.epochs,
            "lr": params.lr,
            "branches": list(branches),
            "branch_dim": params.dim,
            "dim": params.dim * len(branches),
            "batch_size": params.batch_size,
            "temperature": tau,
            "negatives": n_neg,
            "candidates": n_cand,
            "layers": layers if "collaborative" in branches else None,
            "weight_decay": decay,
            "patience": params.patience if validate is not None else None,
            "seed": params.seed,
            "optimizer": "AdamW",
        },
        notes=(
            "the user's semantic input is the normalised mean of S over their train items, as "
            "in the paper; hard negatives are mined among warm items only",
            cold_note,
        ),
    )


def fit_ncn(data: StrategyData, params: TrainParams, **kwargs: Any) -> Trained:
    """The paper's naive fusion: both branches, norm-concat-norm, trained end to end."""
    return _fit("ncn", data, params, **kwargs)


def fit_semproj(data: StrategyData, params: TrainParams, **kwargs: Any) -> Trained:
    """The semantic branch alone (a trained linear projection of S)."""
    return _fit("semproj", data, params, **kwargs)


def fit_lightgcn(data: StrategyData, params: TrainParams, **kwargs: Any) -> Trained:
    """The collaborative branch alone (LightGCN from random vectors)."""
    return _fit("lightgcn", data, params, **kwargs)
