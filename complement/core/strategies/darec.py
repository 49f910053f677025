"""``darec``: disentangled alignment of the two views (DaRec, Yang et al., 2024).

A collaborative backbone (matrix factorisation, users ``P``, items ``Q`` of C's dimension;
``Q`` starts from C, ``P`` from the mean of C over each user's train items) is trained with
BPR. Each view is projected into a shared and a specific part of dimension ``d`` (one linear
map each): the collaborative view's rows are the backbone's vectors ``[P_u; Q_i]``, the
semantic view's rows are ``[s̄_u; ŝ_i]`` where ŝ is the L2-normalised S and s̄_u the mean of ŝ
over the user's train items (the paper's LLM user profile is replaced by this mean). On the
unique users and items of a batch:

- orthogonality: ``Σ_v mean_r cos(z^v_r, p^v_r)²`` (shared ⟂ specific);
- uniformity of the specific parts: ``Σ_v log mean_{r<r'} exp(−2 ‖p̃^v_r − p̃^v_r'‖²)``;
- global structure: ``mean_{r,r'} (cos(z^C_r, z^C_r') − cos(z^S_r, z^S_r'))²``;
- local structure: k-means (``K`` = 8 centres, 10 Lloyd steps, seeded) on each view's
  normalised shared rows, centres matched by the Hungarian algorithm on squared distances,
  loss = mean over matched pairs of ``‖μ^C_k − μ^S_π(k)‖²``.

The four terms use the batch's unique users and items (a seeded sample of at most 1024 of
them). ``L = BPR + l2 + λ · (orthogonality + uniformity + global + local)``. Score:
``P_u · Q_i``. A cold item (never in training) has no backbone vector: ``Q_i`` is predicted
from ŝ_i by ridge regression fitted on the warm items' trained ``Q`` (α = 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from complement.core.strategies.common import (
    StrategyData,
    Trained,
    TrainParams,
    Validate,
    batches,
    bpr_loss,
    fit_loop,
    optimise,
    pair_keys,
    ridge_map,
    sample_negatives,
    start_fit,
    to_numpy,
    uniformity,
    unit_rows,
    user_means,
)

__all__ = [
    "DEFAULTS",
    "DaRec",
    "darec_regularisers",
    "fit_darec",
    "global_structure",
    "kmeans",
    "local_structure",
    "orthogonality",
]

DEFAULTS: dict[str, Any] = {
    "epochs": 10,
    "lr": 5e-3,
    "batch_size": 4096,
    "weight": 0.1,
    "l2": 1e-3,
    "clusters": 8,
    "kmeans_steps": 10,
    "max_rows": 1024,
}


def orthogonality(z: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Mean over rows of ``cos(z_r, p_r)²``."""
    return F.cosine_similarity(z, p, dim=1).pow(2).mean()


def global_structure(zc: torch.Tensor, zs: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the two cosine-similarity matrices (all ordered pairs)."""
    a, b = F.normalize(zc, dim=1), F.normalize(zs, dim=1)
    return (a @ a.T - b @ b.T).pow(2).mean()


def kmeans(x: torch.Tensor, k: int, steps: int, gen: torch.Generator) -> torch.Tensor:
    """Cluster of each row after ``steps`` Lloyd steps from ``k`` seeded distinct rows."""
    start = torch.randperm(x.shape[0], generator=gen)[:k].to(x.device)
    centres = x[start].clone()
    assign = torch.cdist(x, centres).argmin(dim=1)
    for _ in range(steps):
        onehot = F.one_hot(assign, k).to(x.dtype)
        count = onehot.sum(dim=0)
        moved = (onehot.T @ x) / count.clamp_min(1.0)[:, None]
        centres = torch.where(count[:, None] > 0, moved, centres)
        assign = torch.cdist(x, centres).argmin(dim=1)
    return assign


def _centres(x: torch.Tensor, assign: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    onehot = F.one_hot(assign, k).to(x.dtype)
    count = onehot.sum(dim=0)
    return (onehot.T @ x) / count.clamp_min(1.0)[:, None], count > 0


def match_centres(mc: torch.Tensor, ms: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Hungarian matching of two centre sets on squared Euclidean distance."""
    cost = torch.cdist(mc.detach(), ms.detach()).pow(2).cpu().double().numpy()
    rows, cols = linear_sum_assignment(cost)
    return rows, cols


def local_structure(
    zc: torch.Tensor,
    zs: torch.Tensor,
    k: int,
    steps: int,
    gen: torch.Generator,
    *,
    assign: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Mean squared distance of Hungarian-matched k-means centres of the normalised rows.

    Assignments are found without gradient; the centres are means of the rows, so the loss
    moves the rows. Empty clusters take no part in the matching.
    """
    a, b = F.normalize(zc, dim=1), F.normalize(zs, dim=1)
    k = min(k, a.shape[0])
    if assign is None:
        with torch.no_grad():
            assign = (kmeans(a, k, steps, gen), kmeans(b, k, steps, gen))
    mc, okc = _centres(a, assign[0], k)
    ms, oks = _centres(b, assign[1], k)
    mc, ms = mc[okc], ms[oks]
    rows, cols = match_centres(mc, ms)
    r = torch.as_tensor(rows, device=a.device)
    c = torch.as_tensor(cols, device=a.device)
    return (mc[r] - ms[c]).pow(2).sum(dim=1).mean()


def darec_regularisers(
    xc: torch.Tensor,
    xs: torch.Tensor,
    heads: torch.nn.ModuleDict,
    k: int,
    steps: int,
    gen: torch.Generator,
) -> dict[str, torch.Tensor]:
    """The four DaRec terms on paired rows ``xc`` (collaborative) and ``xs`` (semantic)."""
    zc, pc = heads["shared_cf"](xc), heads["specific_cf"](xc)
    zs, ps = heads["shared_sem"](xs), heads["specific_sem"](xs)
    return {
        "orthogonality": orthogonality(zc, pc) + orthogonality(zs, ps),
        "uniformity": uniformity(F.normalize(pc, dim=1)) + uniformity(F.normalize(ps, dim=1)),
        "global": global_structure(zc, zs),
        "local": local_structure(zc, zs, k, steps, gen),
    }


class DaRec(torch.nn.Module):
    sem_users: torch.Tensor
    sem_items: torch.Tensor

    def __init__(
        self,
        p0: torch.Tensor,
        q0: torch.Tensor,
        sem_users: torch.Tensor,
        sem_items: torch.Tensor,
        dim: int,
        gen: torch.Generator,
    ) -> None:
        super().__init__()
        self.user = torch.nn.Parameter(p0.clone())
        self.item = torch.nn.Parameter(q0.clone())
        self.register_buffer("sem_users", sem_users)
        self.register_buffer("sem_items", sem_items)
        dc, ds = q0.shape[1], sem_items.shape[1]
        heads = {}
        for name, fan_in in (
            ("shared_cf", dc),
            ("specific_cf", dc),
            ("shared_sem", ds),
            ("specific_sem", ds),
        ):
            lin = torch.nn.Linear(fan_in, dim)
            with torch.no_grad():
                bound = (6.0 / (fan_in + dim)) ** 0.5
                lin.weight.copy_(torch.rand(dim, fan_in, generator=gen) * 2 * bound - bound)
                lin.bias.zero_()
            heads[name] = lin
        self.heads = torch.nn.ModuleDict(heads)


def fit_darec(
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
    s_users = user_means(sem, data.users, data.items, data.n_users)
    model = DaRec(
        torch.from_numpy(p0),
        torch.from_numpy(cf),
        torch.from_numpy(s_users),
        torch.from_numpy(sem),
        params.dim,
        gen,
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=params.lr)
    users = torch.from_numpy(data.users).to(device)
    items = torch.from_numpy(data.items).to(device)
    users_cpu = torch.from_numpy(data.users)
    known = pair_keys(data.users, data.items, data.n_items)
    pool = torch.from_numpy(np.flatnonzero(data.warm))
    weight = 0.0 if params.ablated else params.weight_or(float(DEFAULTS["weight"]))
    l2 = float(DEFAULTS["l2"])
    k, steps = int(DEFAULTS["clusters"]), int(DEFAULTS["kmeans_steps"])
    cap = int(DEFAULTS["max_rows"])
    parts: dict[str, list[float]] = {
        n: [] for n in ("orthogonality", "uniformity", "global", "local")
    }

    def epoch() -> float:
        total, n = 0.0, 0
        sums = dict.fromkeys(parts, 0.0)
        for b in batches(users.shape[0], params.batch_size, gen):
            bj = sample_negatives(users_cpu[b], pool, known, data.n_items, gen).to(device)
            b = b.to(device)
            bu, bi = users[b], items[b]
            pu, qi, qj = model.user[bu], model.item[bi], model.item[bj]
            loss = bpr_loss((pu * qi).sum(1), (pu * qj).sum(1))
            loss = loss + l2 * (pu.pow(2).sum(1) + qi.pow(2).sum(1) + qj.pow(2).sum(1)).mean()
            uu, ui = torch.unique(bu), torch.unique(bi)
            xc = torch.cat([model.user[uu], model.item[ui]])
            xs = torch.cat([model.sem_users[uu], model.sem_items[ui]])
            if xc.shape[0] > cap:  # a seeded sample of the batch's unique users and items
                keep = torch.randperm(xc.shape[0], generator=gen)[:cap].to(device)
                xc, xs = xc[keep], xs[keep]
            reg = darec_regularisers(xc, xs, model.heads, k, steps, gen)
            loss = loss + weight * sum(reg.values(), torch.zeros((), device=device))
            total += optimise(opt, loss) * b.shape[0]
            n += b.shape[0]
            for name, value in reg.items():
                sums[name] += float(value.detach()) * b.shape[0]
        for name in parts:
            parts[name].append(sums[name] / n)
        return total / n

    cold = torch.from_numpy(~data.warm).to(device)

    def embed() -> tuple[torch.Tensor, torch.Tensor]:
        # validation ranks warm items only; cold rows are filled in after training
        return model.user, torch.where(cold[:, None], torch.zeros_like(model.item), model.item)

    res = fit_loop(
        model,
        epoch,
        params.epochs,
        embed=embed,
        validate=validate,
        patience=params.patience,
        progress=progress,
    )
    user_vecs = to_numpy(model.user)
    item_vecs = to_numpy(model.item)
    if (~data.warm).any():
        item_vecs[~data.warm] = ridge_map(
            sem[data.warm], item_vecs[data.warm], sem[~data.warm], alpha=1.0
        )
    return Trained(
        method="darec",
        users=user_vecs,
        items=item_vecs,
        loss={"train": res.loss, **{f"train_{n}": v for n, v in parts.items()}},
        epochs_run={"train": res.epochs_run},
        best_epoch={"train": res.best_epoch},
        best_valid_ndcg10={"train": res.best_valid},
        hyper={
            "epochs": params.epochs,
            "lr": params.lr,
            "shared_specific_dim": params.dim,
            "backbone_dim": int(cf.shape[1]),
            "batch_size": params.batch_size,
            "weight": weight,
            "l2": l2,
            "clusters": k,
            "kmeans_steps": steps,
            "regulariser_rows": cap,
            "patience": params.patience if validate is not None else None,
            "seed": params.seed,
            "optimizer": "Adam",
        },
        notes=(
            "the paper's LLM-generated user view is replaced by the mean of S over the user's "
            "train items",
            "the backbone is a matrix factorisation started from C (users: mean of C over "
            "their train items); --dim is the dimension of the shared and specific parts",
            "cold items get a backbone vector predicted from S by ridge regression on the warm "
            "items' trained vectors (alpha = 1); DaRec itself has no path for unseen items",
        ),
    )
