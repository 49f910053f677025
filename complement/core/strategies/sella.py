"""``sella``: the alignment stage of SeLLa-Rec, without its LLM.

Stage 1: a collaborative matrix factorisation (users ``P``, items ``Q`` of C's dimension;
``Q`` starts from C, ``P`` from the mean of C over each user's train items) is trained with
binary cross-entropy on each positive pair and one sampled negative, plus ``λ`` times a
contrastive loss between each item's projected collaborative vector ``a_i = normalize(g(Q_i))``
(``g``: Linear(d_c, d) – ReLU – Linear(d, d_s), "C → S") and its semantic vector ŝ_i:

    InfoNCE = (CE(A Ŝᵀ / τ, diag) + CE(Ŝ Aᵀ / τ, diag)) / 2,  τ = 0.2,

over the unique items of a batch (both directions). Stage 2 (the hybrid projection): stage 1 is
frozen and a two-tower head maps ``[a_i; ŝ_i]`` (items) and ``[normalize(g(P_u)); s̄_u]`` (users;
s̄_u = normalised mean of ŝ over the user's train items) through one MLP per tower
(Linear(2 d_s, d) – ReLU – Linear(d, d)), trained with the same binary cross-entropy. Score:
the inner product of the two towers. A cold item has no trained ``Q_i``: its projected
collaborative vector is replaced by its semantic vector, the target of the contrastive
alignment (tower input ``[ŝ_i; ŝ_i]``). SeLLa-Rec feeds these vectors to an LLM as tokens;
that stage is out of scope for a diagnostic tool.

Tuning axis: λ (``TrainParams.weight``); the ablation (``sella_ablated``) sets λ = 0 with
everything else equal (the InfoNCE term is still computed and logged): ``g`` then stays at its
random initialisation.
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
    optimise,
    pair_keys,
    sample_negatives,
    start_fit,
    to_numpy,
    unit_rows,
    user_means,
)

__all__ = ["DEFAULTS", "SeLLa", "bce_pairs", "fit_sella", "info_nce"]

DEFAULTS: dict[str, Any] = {
    "epochs": 10,
    "lr": 2e-3,
    "batch_size": 2048,
    "temperature": 0.2,
    "weight": 0.1,
}


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    """Symmetric InfoNCE of paired normalised rows: row r of ``a`` should pick row r of ``b``."""
    logits = a @ b.T / temperature
    target = torch.arange(a.shape[0], device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def bce_pairs(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with logits: positives labelled 1, negatives 0, mean of both."""
    return (
        F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
        + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg))
    ) / 2


def _mlp(sizes: list[int], gen: torch.Generator) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for n, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        lin = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            bound = (6.0 / (fan_in + fan_out)) ** 0.5
            lin.weight.copy_(torch.rand(fan_out, fan_in, generator=gen) * 2 * bound - bound)
            lin.bias.zero_()
        layers.append(lin)
        if n < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class SeLLa(torch.nn.Module):
    sem_users: torch.Tensor
    sem_items: torch.Tensor
    cold: torch.Tensor

    def __init__(
        self,
        p0: torch.Tensor,
        q0: torch.Tensor,
        sem_users: torch.Tensor,
        sem_items: torch.Tensor,
        cold: torch.Tensor,
        dim: int,
        gen: torch.Generator,
    ) -> None:
        super().__init__()
        dc, ds = q0.shape[1], sem_items.shape[1]
        self.user = torch.nn.Parameter(p0.clone())
        self.item = torch.nn.Parameter(q0.clone())
        self.register_buffer("sem_users", sem_users)
        self.register_buffer("sem_items", sem_items)
        self.register_buffer("cold", cold)
        self.project = _mlp([dc, dim, ds], gen)
        self.user_tower = _mlp([2 * ds, dim, dim], gen)
        self.item_tower = _mlp([2 * ds, dim, dim], gen)

    def projected(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.project(x), dim=1)

    def towers(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Both towers for every user and item (cold items: ``[ŝ_i; ŝ_i]``)."""
        a = torch.where(self.cold[:, None], self.sem_items, self.projected(self.item))
        u = self.user_tower(torch.cat([self.projected(self.user), self.sem_users], dim=1))
        i = self.item_tower(torch.cat([a, self.sem_items], dim=1))
        return u, i


def fit_sella(
    data: StrategyData,
    params: TrainParams,
    *,
    validate: Validate | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Trained:
    device, gen = start_fit(data, params)
    sem = unit_rows(data.sem)
    cf = np.asarray(data.cf, dtype=np.float32).copy()
    cf[~data.warm] = 0.0  # never read: cold items take no part in training
    p0 = user_means(cf, data.users, data.items, data.n_users)
    s_users = unit_rows(user_means(sem, data.users, data.items, data.n_users))
    model = SeLLa(
        torch.from_numpy(p0),
        torch.from_numpy(cf),
        torch.from_numpy(s_users),
        torch.from_numpy(sem),
        torch.from_numpy(~data.warm),
        params.dim,
        gen,
    ).to(device)
    users = torch.from_numpy(data.users).to(device)
    items = torch.from_numpy(data.items).to(device)
    users_cpu = torch.from_numpy(data.users)
    known = pair_keys(data.users, data.items, data.n_items)
    pool = torch.from_numpy(np.flatnonzero(data.warm))
    tau = float(DEFAULTS["temperature"])
    weight = 0.0 if params.ablated else params.weight_or(float(DEFAULTS["weight"]))
    contrastive: list[float] = []

    def stage1() -> float:
        total, n, con = 0.0, 0, 0.0
        for b in batches(users.shape[0], params.batch_size, gen):
            bj = sample_negatives(users_cpu[b], pool, known, data.n_items, gen).to(device)
            b = b.to(device)
            bu, bi = users[b], items[b]
            pu, qi, qj = model.user[bu], model.item[bi], model.item[bj]
            ui = torch.unique(bi)
            nce = info_nce(model.projected(model.item[ui]), model.sem_items[ui], tau)
            loss = bce_pairs((pu * qi).sum(1), (pu * qj).sum(1)) + weight * nce
            total += optimise(opt1, loss) * b.shape[0]
            con += float(nce.detach()) * b.shape[0]
            n += b.shape[0]
        contrastive.append(con / n)
        return total / n

    def stage2() -> float:
        total, n = 0.0, 0
        for b in batches(users.shape[0], params.batch_size, gen):
            bj = sample_negatives(users_cpu[b], pool, known, data.n_items, gen).to(device)
            b = b.to(device)
            u, i = model.towers()
            ub = u[users[b]]
            loss = bce_pairs((ub * i[items[b]]).sum(1), (ub * i[bj]).sum(1))
            total += optimise(opt2, loss) * b.shape[0]
            n += b.shape[0]
        return total / n

    cold = torch.from_numpy(~data.warm).to(device)

    def embed_mf() -> tuple[torch.Tensor, torch.Tensor]:
        return model.user, torch.where(cold[:, None], torch.zeros_like(model.item), model.item)

    def phase_progress(offset: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, _total: progress(offset + done, 2 * params.epochs)

    stage1_params = [model.user, model.item, *model.project.parameters()]
    stage2_params = [*model.user_tower.parameters(), *model.item_tower.parameters()]
    opt1 = torch.optim.Adam(stage1_params, lr=params.lr)
    for p in stage2_params:
        p.requires_grad_(False)
    res1 = fit_loop(
        model,
        stage1,
        params.epochs,
        embed=embed_mf,
        validate=validate,
        patience=params.patience,
        progress=phase_progress(0),
    )
    for p in stage1_params:
        p.requires_grad_(False)
    for p in stage2_params:
        p.requires_grad_(True)
    opt2 = torch.optim.Adam(stage2_params, lr=params.lr)
    res2 = fit_loop(
        model,
        stage2,
        params.epochs,
        embed=model.towers,
        validate=validate,
        patience=params.patience,
        progress=phase_progress(params.epochs),
    )
    with torch.no_grad():
        u, i = model.towers()
    return Trained(
        method="sella",
        users=to_numpy(u),
        items=to_numpy(i),
        loss={"alignment": res1.loss, "alignment_infonce": contrastive, "hybrid": res2.loss},
        epochs_run={"alignment": res1.epochs_run, "hybrid": res2.epochs_run},
        best_epoch={"alignment": res1.best_epoch, "hybrid": res2.best_epoch},
        best_valid_ndcg10={"alignment": res1.best_valid, "hybrid": res2.best_valid},
        hyper={
            "epochs_per_stage": params.epochs,
            "lr": params.lr,
            "dim": params.dim,
            "mf_dim": int(cf.shape[1]),
            "batch_size": params.batch_size,
            "temperature": tau,
            "weight": weight,
            "patience": params.patience if validate is not None else None,
            "seed": params.seed,
            "optimizer": "Adam",
        },
        notes=(
            "SeLLa-Rec's LLM stage (the aligned vectors fed to an LLM as tokens) is out of "
            "scope: complement evaluates the two-tower hybrid projection head",
            "the MF starts from C (users: mean of C over their train items); user tower input "
            "is [g(P_u); mean of S over the user's train items]",
            "cold items: the projected collaborative vector is replaced by the semantic vector "
            "(tower input [s_i; s_i])",
        ),
    )
