"""Alignment strategies against fusion: train them on the split, evaluate everything alike.

This module runs the whole of ``complement align`` and holds its result; the parts live in
:mod:`~.align_protocol` (cold items, phases, training pairs), :mod:`~.align_training`,
:mod:`~.align_eval` (the settings), :mod:`~.align_hits` (hits against the raw views) and
:mod:`~.align_seeds` (seeds, pooled tests, Holm).

Definitions (fixed; also in docs/definitions.md, docs/strategies.md and the JSON under
``definitions``), on top of those of :mod:`complement.core.evaluation`, :mod:`~.fusion` and
:mod:`~.oracle`:

- Cold items: ``round(0.05 · n_items)`` items drawn with ``numpy.random.default_rng(seed)``.
  Their train and validation rows are removed entirely (no strategy trains on them, no history
  contains them); their test rows stay targets. Every other item is warm.
- A cold item has no collaborative row: wherever complement align uses C (the raw
  collaborative view, the fusions, the oracle), a cold item's C row is replaced by its ridge
  prediction from S fitted on the warm items (α = 1). Each strategy has its own cold path
  (docs/strategies.md).
- Training pairs: the distinct (user, item) pairs of the train rows (warm items only).
  Early stopping: NDCG@10 on the validation phase (history = train, targets = validation
  rows), warm items as candidates; each system keeps its best epoch (patience 5, at most the
  same number of epochs per phase for every system).
- Tuning: the same validation grid for every trained system (:mod:`~.align_training`), the
  point with the best validation NDCG@10 kept; every further seed retrains that point;
  ``<method>_ablated``: a strategy with its alignment terms off, tuned the same way.
- Settings, each at K = 20 with full ranking of its candidates (history excluded):
  ``warm``: targets = warm test items, candidates = warm items; ``cold``: targets = cold test
  items, candidates = cold items; ``cold_all``: targets = cold test items, candidates = all.
- Every system of a setting (the two views, the fusions, each trained system) is scored on the
  same users; Recall@20 and NDCG@20 with 95% bootstrap intervals from the same resamples; the
  oracle bounds are those of the two raw views; each fusion and strategy has a paired test
  against the best single view (as in ``complement oracle``). Alpha of score interpolation is
  tuned once on the validation phase.
- Hits of a strategy against a raw view V (W = the other raw view): ``common = Σ|H_A ∩ H_V|``,
  ``strategy_only = Σ|H_A \\ H_V|``, ``view_only = Σ|H_V \\ H_A|`` (H = top-20 ∩ T_u),
  list Jaccard and complementary ratio as in ``complement hits``; V's private hits are
  ``H_V \\ H_W``; ``private_survival = Σ|(H_V \\ H_W) ∩ H_A| / Σ|H_V \\ H_W|``: the share of
  the signal only V had that survived alignment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.align_eval import SettingResult, evaluate_alignment
from complement.core.align_protocol import IntArray, K, make_protocol
from complement.core.align_seeds import DEFINITIONS as SEED_DEFINITIONS
from complement.core.align_training import (
    LR_FACTORS,
    VALID_K,
    WEIGHT_FACTORS,
    Tuned,
    system_names,
    train_strategies,
)
from complement.core.evaluation import EvalData
from complement.core.multiple import DEFINITIONS as HOLM_DEFINITIONS
from complement.core.splits import Split
from complement.core.strategies import STRATEGIES
from complement.core.validate import check_matrix, check_views
from complement.retrieval import Backend

__all__ = ["DEFINITIONS", "AlignResult", "align"]

DEFINITIONS = {
    "cold_items": "round(0.05 * n_items) items drawn with numpy default_rng(seed); their train "
    "and validation rows are removed entirely (never trained on, never in a history); their "
    "test rows stay targets",
    "cold_collaborative_rows": "a cold item has no collaborative row: for the raw collaborative "
    "view, the fusions and the oracle its C row is the ridge prediction from S fitted on the "
    "warm items (alpha = 1); each strategy has its own cold path (docs/strategies.md)",
    "training_pairs": "distinct (user, item) pairs of the train rows, warm items only",
    "early_stopping": "after each epoch: NDCG@10 on the validation phase (history = train, "
    "targets = validation rows, warm items as candidates); the best epoch is kept, training "
    "stops after 5 epochs without improvement; the same maximum epochs per phase for every "
    "system",
    "tuning_grid": "grid small: every point of lr in {lr0, 3 lr0} x w in {w0, 3 w0} "
    "(lr0, w0: the system's defaults; w: its alignment weight, gamma for directau and carec; "
    "ncn, semproj, lightgcn and the ablations tune lr alone; --lr fixes the lr axis) is "
    "trained with the first seed and the point with the highest validation NDCG@10 of the "
    "final model is kept (ties: the earlier point); grid none: the defaults",
    "ablation": "<method>_ablated: the strategy with its alignment terms off, everything else "
    "equal, tuned and seeded the same way (darec, sella: lambda = 0; directau: no semantic "
    "input to the item encoder; carec: no item-adapter phase)",
    "settings": "K = 20, full ranking of the candidates with history excluded; warm: warm "
    "targets among warm items; cold: cold targets among cold items; cold_all: cold targets "
    "among all items",
    "systems": "the two raw views, the fusions and each trained system are scored on the same "
    "users of a setting; intervals are 95% bootstrap over those users (same resamples for all); "
    "paired tests against the best single view as in complement oracle",
    "strategy_scores": "inner product of the strategy's exported user and item vectors; a "
    "trained system's row (recall, ndcg, intervals, p_value, hits, rankings) is its first "
    "seed's",
    "strategy_hits": "against raw view V (W = the other view): common = sum |H_A ∩ H_V|, "
    "strategy_only = sum |H_A \\ H_V|, view_only = sum |H_V \\ H_A|; list_jaccard and "
    "complementary_ratio as in complement hits",
    "private_survival": "sum |(H_V \\ H_W) ∩ H_A| / sum |H_V \\ H_W|: the share of the hits only "
    "view V had (its private signal) that the strategy also finds",
    **SEED_DEFINITIONS,
    **HOLM_DEFINITIONS,
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AlignResult:
    k: int
    methods: tuple[str, ...]
    systems: tuple[str, ...]
    n_items: int
    n_users: int
    seed: int
    n_boot: int
    rrf_depth: int
    alpha: float
    protocol: dict[str, Any]
    grid: dict[str, Any]
    training: dict[str, Tuned]
    settings: dict[str, SettingResult]
    notes: dict[str, list[str]] = field(default_factory=dict)
    test: EvalData | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "methods": list(self.methods),
            "systems": list(self.systems),
            "n_items": self.n_items,
            "n_users": self.n_users,
            "seed": self.seed,
            "n_boot": self.n_boot,
            "rrf_depth": self.rrf_depth,
            "alpha": self.alpha,
            "protocol": dict(self.protocol),
            "grid": dict(self.grid),
            "training": {m: t.to_dict() for m, t in self.training.items()},
            "settings": {name: s.to_dict() for name, s in self.settings.items()},
            "notes": {m: list(n) for m, n in self.notes.items()},
        }


def align(
    users: IntArray,
    item_index: IntArray,
    split: Split,
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    n_users: int,
    methods: Sequence[str],
    backend: Backend,
    *,
    sem_users: npt.NDArray[Any] | None = None,
    cf_users: npt.NDArray[Any] | None = None,
    user_ok: npt.NDArray[np.bool_] | None = None,
    epochs: int | None = None,
    lr: float | None = None,
    dim: int = 64,
    seed: int = 0,
    seeds: int = 1,
    grid: str = "small",
    alpha: float | None = None,
    device: str = "cpu",
    rrf_depth: int = 200,
    n_boot: int = 1000,
    progress: Progress | None = None,
) -> AlignResult:
    """Prepare the split, tune and train every system, evaluate everything side by side."""
    sem, cf = check_views(sem, cf, "align")
    sem_users, cf_users = (
        None if u is None else check_matrix(u, name, "align")
        for u, name in ((sem_users, "sem_users"), (cf_users, "cf_users"))
    )
    systems = system_names(methods)
    n_items = int(sem.shape[0])
    protocol = make_protocol(users, item_index, split, n_items, n_users, seed=seed, user_ok=user_ok)
    trained = train_strategies(
        protocol,
        sem,
        cf,
        methods,
        backend,
        epochs=epochs,
        lr=lr,
        dim=dim,
        seed=seed,
        seeds=seeds,
        grid=grid,
        device=device,
        progress=progress,
    )
    chosen_alpha, settings = evaluate_alignment(
        protocol,
        sem,
        cf,
        trained,
        backend,
        sem_users=sem_users,
        cf_users=cf_users,
        rrf_depth=rrf_depth,
        n_boot=n_boot,
        seed=seed,
        alpha=alpha,
    )
    return AlignResult(
        k=K,
        methods=tuple(methods),
        systems=systems,
        n_items=n_items,
        n_users=n_users,
        seed=seed,
        n_boot=n_boot,
        rrf_depth=rrf_depth,
        alpha=chosen_alpha,
        protocol=protocol.to_dict(),
        grid={
            "name": grid,
            "lr_factors": list(LR_FACTORS) if grid == "small" and lr is None else [1.0],
            "weight_factors": list(WEIGHT_FACTORS) if grid == "small" else [1.0],
            "max_epochs_per_phase": epochs
            if epochs is not None
            else max(int(STRATEGIES[t.method].defaults["epochs"]) for t in trained.values()),
            "patience": 5,
            "selection": f"validation NDCG@{VALID_K}",
            "seeds": [seed + j for j in range(seeds)],
        },
        training=dict(trained),
        settings=settings,
        notes={m: list(t.first.notes) for m, t in trained.items() if not t.ablated},
        test=protocol.test,
    )
