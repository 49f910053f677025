"""One probe fit: a capacity fitted on a shift's training items, then every item mapped.

The probe (:mod:`complement.core.probe`) fits each capacity under the chosen shift and under
the random reference. A fit is split in three plain steps so that the middle one, the only one
that may need torch, can run anywhere (in this process, or in a worker process that loaded
torch while this one did other work) and give the same bits:

1. :func:`fit_inputs`: the training sources and targets centred with the training items'
   means, and every item's source centred the same way;
2. :func:`predict_items`: fit the capacity on the centred training pairs, predict every item;
3. the mapped vectors are those predictions plus the training mean of the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core import probe_models
from complement.core.probe_metrics import l2_rows
from complement.core.shifts import ItemShift
from complement.errors import UsageError

__all__ = [
    "CAPACITIES",
    "FitInputs",
    "fit_capacity",
    "fit_inputs",
    "mapped_vectors",
    "predict_items",
    "probe_rows",
]

CAPACITIES = ("linear", "lowrank", "mlp1", "mlp2", "mlp3")
F64 = npt.NDArray[np.float64]


def probe_rows(source: npt.NDArray[Any], target: npt.NDArray[Any], raw: bool) -> tuple[F64, F64]:
    """The rows the probe maps: L2-normalised (float64), or the raw rows with ``raw``."""
    if raw:
        return np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
    return l2_rows(source), l2_rows(target)


@dataclass(frozen=True)
class FitInputs:
    """Centred training pairs, every item's centred source, and the target's training mean."""

    x_fit: F64
    y_fit: F64
    x_all: F64
    y_mean: F64


def fit_inputs(xs: F64, yt: F64, shift: ItemShift) -> FitInputs:
    """Sources and targets centred with the means of the shift's training items."""
    mx, my = xs[shift.train].mean(axis=0), yt[shift.train].mean(axis=0)
    return FitInputs(xs[shift.train] - mx, yt[shift.train] - my, xs - mx, my)


def fit_capacity(
    capacity: str,
    x: F64,
    y: F64,
    *,
    alpha: float | None = None,
    rank: int = 16,
    max_epochs: int = 200,
    seed: int = 0,
    device: str = "cpu",
    epochs: int | None = None,
) -> probe_models.Probe:
    """Fit one capacity on centred training sources ``x`` and targets ``y``.

    MLPs: early stopping (at most ``max_epochs``) when ``epochs`` is None, else exactly
    ``epochs`` epochs on all of ``x`` (the paper's protocol).
    """
    if capacity == "linear":
        return probe_models.fit_ridge(x, y, alpha=alpha, seed=seed)
    if capacity == "lowrank":
        return probe_models.fit_lowrank(x, y, rank, alpha=alpha, seed=seed)
    if capacity in probe_models.MLP_LAYERS:
        return probe_models.fit_mlp(
            x, y, capacity, seed=seed, max_epochs=max_epochs, device=device, epochs=epochs
        )
    raise UsageError(f"unknown --capacity {capacity!r}: choose one of {', '.join(CAPACITIES)}")


def predict_items(
    capacity: str, inputs: FitInputs, opts: dict[str, Any]
) -> tuple[F64, dict[str, Any]]:
    """Fit ``capacity`` on the centred training pairs; its prediction for every item and the
    fit's information (``opts``: the keywords of :func:`fit_capacity`)."""
    probe = fit_capacity(capacity, inputs.x_fit, inputs.y_fit, **opts)
    return probe.predict(inputs.x_all), probe.info


def mapped_vectors(
    capacity: str, xs: F64, yt: F64, shift: ItemShift, opts: dict[str, Any]
) -> tuple[F64, dict[str, Any]]:
    """Fit on the shift's training items; the mapped vector of every item, and the fit's info."""
    inputs = fit_inputs(xs, yt, shift)
    predicted, info = predict_items(capacity, inputs, opts)
    return predicted + inputs.y_mean, info
