"""Training of the alignment strategies on a protocol's pairs, early-stopped on validation.

Early stopping: after each epoch, NDCG@10 on the validation phase (history = train, targets =
validation rows), warm items as candidates; each strategy keeps its best epoch (patience 5).
The strategies are torch models (:mod:`complement.core.strategies`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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

__all__ = ["VALID_K", "train_strategies", "validator"]

VALID_K = 10

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
    device: str = "cpu",
    progress: Progress | None = None,
) -> dict[str, Trained]:
    """Train each method on the protocol's training pairs, early-stopped on validation."""
    for m in methods:
        if m not in STRATEGIES:
            raise UsageError(f"unknown --method {m!r}: choose {', '.join(METHODS)} or all")
    data = StrategyData(
        sem=np.asarray(sem, dtype=np.float32),
        cf=np.asarray(cf, dtype=np.float32),
        users=protocol.train_users,
        items=protocol.train_items,
        n_users=protocol.n_users,
        warm=protocol.warm,
    )
    validate = validator(protocol.valid, protocol.warm, backend)
    budgets = [
        STRATEGIES[m].phases * int(STRATEGIES[m].defaults["epochs"] if epochs is None else epochs)
        for m in methods
    ]
    total = sum(budgets)
    out: dict[str, Trained] = {}
    offset = 0
    for m, budget in zip(methods, budgets, strict=True):

        def step(done: int, _total: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + done, total)

        out[m] = fit_strategy(
            m,
            data,
            epochs=epochs,
            lr=lr,
            dim=dim,
            seed=seed,
            device=device,
            validate=validate,
            progress=step,
        )
        offset += budget
        if progress is not None:
            progress(offset, total)
    return out
