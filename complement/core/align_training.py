"""Training of every system on a protocol's pairs: the tuning grid, the seeds, the ablations.

Early stopping: after each epoch, NDCG@10 on the validation phase (history = train, targets =
validation rows), warm items as candidates; each system keeps its best epoch (patience 5, at
most ``epochs`` per phase, the same for every system).

Tuning (the same budget for every system, ``grid = "small"``): every point of
``lr ∈ {lr₀, 3 lr₀}`` × ``w ∈ {w₀, 3 w₀}`` (``lr₀``, ``w₀``: the system's defaults;
``w``: its alignment weight, or γ where the loss has no separate alignment term; systems
without a weight (``ncn``, ``semproj``, ``lightgcn``) and the ablations tune ``lr`` alone) is
trained with the first seed; the point with the highest validation NDCG@10 of the final model
(its last phase's best epoch; ties: the earlier point) is kept. ``--lr`` fixes the lr axis;
``grid = "none"`` trains the defaults. Every further seed (``seed + 1``, …) trains the chosen
point again. ``<method>_ablated`` (strategies only) is tuned and seeded the same way with the
strategy's alignment terms off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.align_protocol import Protocol, candidate_subset
from complement.core.evaluation import EvalData
from complement.core.metrics import evaluate_lists
from complement.core.ranking import rank
from complement.core.strategies import METHODS, STRATEGIES, StrategyData, Trained, fit_strategy
from complement.errors import UsageError
from complement.retrieval import Backend

__all__ = [
    "ABLATED",
    "GRIDS",
    "LR_FACTORS",
    "VALID_K",
    "WEIGHT_FACTORS",
    "Tuned",
    "grid_points",
    "system_names",
    "train_strategies",
    "validator",
]

VALID_K = 10
#: suffix of a strategy's ablation row
ABLATED = "_ablated"
LR_FACTORS = (1.0, 3.0)
WEIGHT_FACTORS = (1.0, 3.0)
GRIDS = ("small", "none")

Progress = Callable[[int, int], None]


def validator(
    ev_valid: EvalData, warm: npt.NDArray[np.bool_], backend: Backend, k: int = VALID_K
) -> Callable[[npt.NDArray[np.float32], npt.NDArray[np.float32]], float] | None:
    """Validation NDCG@k of (user vectors, item vectors), warm items as candidates.

    None when no validation user has a warm target (training then runs every epoch).
    """
    _, sub, index = candidate_subset(ev_valid, warm)
    if sub.n_users == 0 or int(warm.sum()) <= k:
        return None

    def validate(users: npt.NDArray[np.float32], items: npt.NDArray[np.float32]) -> float:
        q = np.ascontiguousarray(users[sub.users], dtype=np.float32)
        lists = rank(sub, q, np.ascontiguousarray(items[index]), k, backend)
        return float(evaluate_lists(lists, sub, [k])[k].ndcg.mean())

    return validate


def system_names(methods: Sequence[str]) -> tuple[str, ...]:
    """The trained systems of ``methods``: each, followed by its ablation where it has one."""
    out: list[str] = []
    for m in methods:
        if m not in STRATEGIES:
            raise UsageError(f"unknown --method {m!r}: choose {', '.join(METHODS)} or all")
        if m in out:
            continue
        out.append(m)
        if STRATEGIES[m].ablation is not None:
            out.append(m + ABLATED)
    return tuple(out)


def _base(system: str) -> tuple[str, bool]:
    if system.endswith(ABLATED):
        return system[: -len(ABLATED)], True
    return system, False


def grid_points(system: str, grid: str, lr: float | None) -> list[dict[str, float | None]]:
    """The (lr, weight) points tuned for one system (``weight`` None: the system has none)."""
    if grid not in GRIDS:
        raise UsageError(f"unknown --grid {grid!r}: choose {' or '.join(GRIDS)}")
    method, ablated = _base(system)
    spec = STRATEGIES[method]
    lr0 = float(spec.defaults["lr"]) if lr is None else float(lr)
    has_weight = spec.axis is not None and not ablated
    w0 = float(spec.defaults[spec.axis]) if has_weight and spec.axis else None
    if grid == "none":
        return [{"lr": lr0, "weight": w0}]
    lrs = [lr0] if lr is not None else [round(lr0 * f, 12) for f in LR_FACTORS]
    weights: list[float | None] = (
        [None] if w0 is None else [round(w0 * f, 12) for f in WEIGHT_FACTORS]
    )
    return [{"lr": a, "weight": w} for a in lrs for w in weights]


@dataclass(frozen=True)
class Tuned:
    """One trained system: its grid with validation scores, the chosen point, one run a seed."""

    system: str
    method: str
    ablated: bool
    axis: str | None
    grid: list[dict[str, Any]]
    chosen: dict[str, Any]
    runs: list[Trained]

    @property
    def first(self) -> Trained:
        return self.runs[0]

    def to_dict(self) -> dict[str, Any]:
        spec = STRATEGIES[self.method]
        return {
            **self.first.to_dict(),
            "system": self.system,
            "ablated": self.ablated,
            "ablation": spec.ablation if self.ablated else None,
            "tuning": {
                "axis": self.axis,
                "grid": [dict(p) for p in self.grid],
                "chosen": dict(self.chosen),
            },
            "seeds": [
                {
                    "seed": int(t.hyper["seed"]),
                    "epochs_run": dict(t.epochs_run),
                    "best_valid_ndcg10": dict(t.best_valid_ndcg10),
                }
                for t in self.runs
            ],
        }


def _valid_score(t: Trained) -> float:
    """Validation NDCG@10 of the exported model: the last phase that ran (-inf: none)."""
    values = [v for p, v in t.best_valid_ndcg10.items() if t.epochs_run.get(p) and v is not None]
    return float(values[-1]) if values else float("-inf")


def train_strategies(
    protocol: Protocol,
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    methods: Sequence[str],
    backend: Backend,
    *,
    epochs: int | None = None,
    lr: float | None = None,
    dim: int = 64,
    seed: int = 0,
    seeds: int = 1,
    grid: str = "none",
    device: str = "cpu",
    progress: Progress | None = None,
) -> dict[str, Tuned]:
    """Tune and train every system (and each strategy's ablation), one run per seed."""
    if seeds < 1:
        raise UsageError(f"--seeds {seeds}: train at least one seed")
    systems = system_names(methods)
    data = StrategyData(
        sem=np.asarray(sem, dtype=np.float32),
        cf=np.asarray(cf, dtype=np.float32),
        users=protocol.train_users,
        items=protocol.train_items,
        n_users=protocol.n_users,
        warm=protocol.warm,
    )
    validate = validator(protocol.valid, protocol.warm, backend)
    tuned_grid = grid if validate is not None else "none"
    points = {s: grid_points(s, tuned_grid, lr) for s in systems}

    def budget(system: str) -> int:
        spec = STRATEGIES[_base(system)[0]]
        return spec.phases * int(spec.defaults["epochs"] if epochs is None else epochs)

    total = sum(budget(s) * (len(points[s]) + seeds - 1) for s in systems)
    done = 0

    def fit(system: str, point: dict[str, Any], run_seed: int) -> Trained:
        nonlocal done
        method, ablated = _base(system)
        offset = done

        def step(n: int, _total: int) -> None:
            if progress is not None:
                progress(offset + n, total)

        t = fit_strategy(
            method,
            data,
            epochs=epochs,
            lr=point["lr"],
            dim=dim,
            seed=run_seed,
            device=device,
            weight=point["weight"],
            ablated=ablated,
            validate=validate,
            progress=step,
        )
        done = offset + budget(system)
        if progress is not None:
            progress(done, total)
        return replace(t, method=system)

    out: dict[str, Tuned] = {}
    for system in systems:
        method, ablated = _base(system)
        runs: list[tuple[dict[str, Any], Trained]] = []
        for point in points[system]:
            runs.append((point, fit(system, point, seed)))
        scores = [_valid_score(t) for _, t in runs]
        best = int(np.argmax(scores))
        chosen, first = runs[best]
        others = [fit(system, chosen, seed + j) for j in range(1, seeds)]
        axis = STRATEGIES[method].axis if not ablated else None
        out[system] = Tuned(
            system=system,
            method=method,
            ablated=ablated,
            axis=axis,
            grid=[
                {**p, "valid_ndcg10": None if not np.isfinite(s) else s}
                for (p, _), s in zip(runs, scores, strict=True)
            ],
            chosen={**chosen, "grid": tuned_grid},
            runs=[first, *others],
        )
    return out
