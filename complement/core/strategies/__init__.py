"""The trained systems, on precomputed item embeddings (torch).

Four published alignment strategies (one module each) and the paper's trained fusion with its
two branches (:mod:`~.ncn`: ``ncn``, ``semproj``, ``lightgcn``). Each has a
``fit_<name>(data, params, validate=, progress=)`` function returning
:class:`~complement.core.strategies.common.Trained` (user and item vectors whose inner product
is the system's score) and a ``DEFAULTS`` dict of its hyper-parameters. ``axis`` names the
second tuning axis (``TrainParams.weight``: the alignment weight, or γ where the loss has no
separate alignment term; None: the learning rate is the only axis); ``ablation`` says what
``<method>_ablated`` switches off (None: no ablation row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from complement.core.strategies import carec, darec, directau, ncn, sella
from complement.core.strategies.common import (
    StrategyData,
    Trained,
    TrainParams,
    Validate,
    single_thread,
    torch_device,
)
from complement.errors import UsageError

__all__ = [
    "METHODS",
    "STRATEGIES",
    "Strategy",
    "StrategyData",
    "TrainParams",
    "Trained",
    "Validate",
    "fit_strategy",
    "torch_device",
]

Fit = Callable[..., Trained]


@dataclass(frozen=True)
class Strategy:
    name: str
    fit: Fit
    defaults: dict[str, Any]
    phases: int
    summary: str
    axis: str | None = None
    ablation: str | None = None


STRATEGIES: dict[str, Strategy] = {
    "directau": Strategy(
        "directau",
        directau.fit_directau,
        directau.DEFAULTS,
        1,
        "alignment + uniformity on the hypersphere; items encoded linearly from S and C",
        axis="gamma",
        ablation="the semantic input of the item encoder removed (items from C only)",
    ),
    "carec": Strategy(
        "carec",
        carec.fit_carec,
        carec.DEFAULTS,
        2,
        "frozen S + LightGCN; phase 1 users, phase 2 item adapter (alignment + uniformity)",
        axis="gamma",
        ablation="phase 2 (the item adapter aligning S to the graph) skipped",
    ),
    "darec": Strategy(
        "darec",
        darec.fit_darec,
        darec.DEFAULTS,
        1,
        "BPR backbone from C + shared/specific projections, global and local structure alignment",
        axis="weight",
        ablation="lambda = 0 (the four alignment terms off): the BPR backbone from C",
    ),
    "sella": Strategy(
        "sella",
        sella.fit_sella,
        sella.DEFAULTS,
        2,
        "MF (BCE) + InfoNCE between projected C and S, then a two-tower hybrid head",
        axis="weight",
        ablation="lambda = 0 (the InfoNCE alignment of projected C to S off)",
    ),
    "ncn": Strategy(
        "ncn",
        ncn.fit_ncn,
        ncn.DEFAULTS,
        1,
        "the paper's trained fusion: norm-concat-norm of a projection of S and a LightGCN, "
        "InfoNCE with hard negatives",
    ),
    "semproj": Strategy(
        "semproj",
        ncn.fit_semproj,
        ncn.DEFAULTS,
        1,
        "ncn's semantic branch alone: a trained linear projection of S",
    ),
    "lightgcn": Strategy(
        "lightgcn",
        ncn.fit_lightgcn,
        ncn.DEFAULTS,
        1,
        "ncn's collaborative branch alone: LightGCN from random vectors",
    ),
}

METHODS: tuple[str, ...] = tuple(STRATEGIES)


def fit_strategy(
    name: str,
    data: StrategyData,
    *,
    epochs: int | None = None,
    lr: float | None = None,
    dim: int = 64,
    seed: int = 0,
    device: str = "cpu",
    weight: float | None = None,
    ablated: bool = False,
    validate: Validate | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Trained:
    """Train one system; ``epochs``/``lr``/``weight`` default to the system's ``DEFAULTS``.

    ``ablated``: the system's alignment terms off (only for systems with an ``ablation``).

    Torch runs on one CPU thread meanwhile (bit-identical results on any machine).
    """
    spec = STRATEGIES[name]
    if ablated and spec.ablation is None:
        raise UsageError(f"{name} has no alignment term to ablate")
    if weight is not None and spec.axis is None:
        raise UsageError(f"{name} has no loss weight to tune; tune its learning rate")
    params = TrainParams(
        epochs=int(spec.defaults["epochs"] if epochs is None else epochs),
        lr=float(spec.defaults["lr"] if lr is None else lr),
        dim=dim,
        seed=seed,
        device=device,
        batch_size=int(spec.defaults["batch_size"]),
        weight=weight,
        ablated=ablated,
    )
    with single_thread():
        return spec.fit(data, params, validate=validate, progress=progress)
