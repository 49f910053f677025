"""Alignment probes: can a map fitted on some items recover one view from the other on others?

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- Preprocessing: rows of both views L2-normalised (raw rows with ``raw=True``, the paper's);
  source X and target Y centred with the means of the training items. The *mapped vector* of
  an item is the probe's prediction plus the training mean of Y, i.e. a point in the space of
  the (L2-normalised or raw) target rows.
- ``r2 = 1 − SSE/SST`` summed over all output dimensions, SST around the mean of the scored set
  (train or test); ``r2_uniform``: the mean over output dimensions of the per-dimension R²
  (dimensions with SST = 0 left out; sklearn's default, the paper's).
- ``cosine``: mean cosine between each item's mapped and true target vector.
- ``geojac``: GeoJac@20, the mean over the set's items of the Jaccard of the item's 20 nearest
  items of the same set (cosine, itself excluded, exact) in the true target space and in the
  mapped space; k = min(20, n − 1).
- ``spearman``: up to 1000 anchor items drawn from the set (seeded); for each anchor the
  Spearman correlation, over the other items of the set, between their cosine similarity to the
  anchor in the true target space and in the mapped space (average ranks for ties); averaged
  over anchors.
- ``rec_true`` / ``rec_mapped`` (with target-view user embeddings): Recall@20 of the split's
  test interactions on the shift's test items, ranking all items by ``u · v_i`` where ``v_i`` is
  the item's L2-normalised (``raw``: raw) true target row (RecTrue) or its mapped vector
  (RecMapped); each user's train interactions masked; per user |top-20 ∩ T_u| / |T_u| with
  T_u the user's test items that are shift-test items and not in the user's train history;
  averaged over users with a vector, a train history and a non-empty T_u
  (complement.core.evaluation, test phase).
  ``drop_abs = rec_true − rec_mapped``; ``drop_pct = drop_abs / rec_true × 100`` only where
  ``rec_true ≥ REC_FLOOR`` (0.01), else None with ``drop_below_floor`` true.
- ``rec_jaccard``: mean over the same users of the Jaccard |A ∩ B| / |A ∪ B| of the two top-20
  lists behind RecTrue (A) and RecMapped (B): all items ranked, train history masked.
- ``train_test_gap``: train R² minus test R² of the same fit (``r2`` and ``r2_uniform``).
- ``gap``: test R² (``r2`` and ``r2_uniform``) under the chosen shift minus test R² of the same
  capacity under the ``random`` shift (0 when the shift is ``random``); null, with
  ``gap_reason``, when the random reference cannot be formed (fewer than 100 items).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core import probe_models, torch_prefetch
from complement.core.probe_fit import (  # CAPACITIES, fit_capacity: re-exported
    CAPACITIES,
    fit_capacity,
    mapped_vectors,
    probe_rows,
)
from complement.core.probe_metrics import (  # RecTask, rec_task: re-exported for callers
    RecTask,
    SetMetrics,
    TrueSide,
    list_jaccard,
    r2_scores,
    rec_lists,
    rec_task,
    recall_of,
    set_metrics,
)
from complement.core.shifts import DEFINITIONS as SHIFT_DEFINITIONS
from complement.core.shifts import ItemShift
from complement.core.validate import check_views
from complement.errors import UsageError
from complement.retrieval import Backend

__all__ = [
    "CAPACITIES",
    "DEFINITIONS",
    "PAPER_EPOCHS",
    "REC_FLOOR",
    "CapacityResult",
    "ProbeResult",
    "RecTask",
    "check_options",
    "fit_capacity",
    "rec_task",
    "run_probe",
]

#: RecTrue below this: the relative drop is not reported (the absolute drop is, flagged)
REC_FLOOR = 0.01
#: epochs of the paper's probe (its analysis scripts' default), for --no-early-stop
PAPER_EPOCHS = 400
F64 = npt.NDArray[np.float64]
Progress = Callable[[str], None]
Mapped = tuple[F64, dict[str, Any]]

DEFINITIONS = {
    "preprocessing": "rows of both views L2-normalised (--raw: raw rows, the paper's); source "
    "and target centred with the training items' means; mapped vector = prediction + training "
    "mean of the target",
    "r2": "1 - SSE/SST summed over all output dimensions, SST around the scored set's mean",
    "r2_uniform": "mean over output dimensions of the per-dimension R^2 (dimensions with SST = 0 "
    "left out; sklearn's default)",
    "cosine": "mean cosine between each item's mapped and true target vector",
    "geojac": "GeoJac@20: mean Jaccard of each item's 20 nearest items of the same set (cosine, "
    "exact, itself excluded) in the true target space vs the mapped space; k = min(20, n - 1)",
    "spearman": "up to 1000 seeded anchor items of the set; per anchor the Spearman correlation "
    "over the set's other items of their cosine to the anchor in the true vs the mapped space; "
    "mean over anchors",
    "rec_true": "Recall@20 of the split's test interactions on the shift's test items, all items "
    "ranked by u . v_i with v_i the L2-normalised (--raw: raw) true target row, train history "
    "masked; per "
    "user |top20 ∩ T_u| / |T_u|, mean over users with a vector, a history and non-empty T_u "
    "(T_u = the user's distinct test items on shift-test items, not in the history)",
    "rec_mapped": "as rec_true with v_i the mapped vector of every item",
    "drop_abs": "rec_true - rec_mapped",
    "drop_pct": f"(rec_true - rec_mapped) / rec_true * 100, only where rec_true >= {REC_FLOOR} "
    "(else null and drop_below_floor true: a ratio to a near-zero base is noise)",
    "rec_jaccard": "mean over the rec_true users of |A ∩ B| / |A ∪ B|, A and B their top-20 lists "
    "with the true and the mapped item vectors (all items ranked, train history masked)",
    "train_test_gap": "train R^2 minus test R^2 of the same fit (r2 and r2_uniform)",
    "gap": "test R^2 under the chosen shift minus test R^2 of the same capacity under the random "
    "shift",
    "linear": "ridge W = (X^T X + alpha I)^-1 X^T Y; alpha by 5-fold CV on the training items over "
    "10^-4 .. 10^4 (half-decade steps; least summed held-out squared error, ties to the smaller), "
    "or --ridge-alpha",
    "lowrank": "reduced-rank ridge (Mukherjee & Zhu 2011): W_alpha V_r V_r^T, V_r the top-r "
    "eigenvectors of W_alpha^T (X^T X + alpha I) W_alpha; alpha as for linear",
    "mlp": "mlp1: 1 hidden layer of 512; mlp2/mlp3: 2/3 hidden layers of 2048; ReLU; MSE, Adam "
    f"lr 1e-3, batch 1024; early stopping on a seeded 10% of the training items (patience "
    f"{probe_models.PATIENCE} epochs, best epoch kept), at most --max-epochs; --no-early-stop: "
    f"exactly --epochs (default {PAPER_EPOCHS}) on all training items, no holdout, last weights",
    **SHIFT_DEFINITIONS,
}


@dataclass(frozen=True)
class CapacityResult:
    capacity: str
    train: SetMetrics
    test: SetMetrics
    fit: dict[str, Any]
    #: test R² (r2, r2_uniform) under the random reference; None when it could not be formed
    random_test: tuple[float, float] | None
    rec_true: float | None = None
    rec_mapped: float | None = None
    rec_jaccard: float | None = None
    #: per item (index order): cosine of the mapped and the true target vector
    item_cosine: F64 | None = field(default=None, repr=False)
    #: per item: squared Euclidean error of the mapped vector (in the probe's rows: L2 or raw)
    item_sq_error: F64 | None = field(default=None, repr=False)

    @property
    def alpha(self) -> float | None:
        value = self.fit.get("alpha")
        return None if value is None else float(value)

    @property
    def gap(self) -> tuple[float, float] | None:
        if self.random_test is None:
            return None
        return (self.test.r2 - self.random_test[0], self.test.r2_uniform - self.random_test[1])

    @property
    def train_test_gap(self) -> tuple[float, float]:
        return (self.train.r2 - self.test.r2, self.train.r2_uniform - self.test.r2_uniform)

    @property
    def drop_abs(self) -> float | None:
        if self.rec_true is None or self.rec_mapped is None:
            return None
        return self.rec_true - self.rec_mapped

    @property
    def drop_below_floor(self) -> bool | None:
        return None if self.rec_true is None else bool(self.rec_true < REC_FLOOR)

    @property
    def drop_pct(self) -> float | None:
        if self.rec_true is None or self.rec_mapped is None or self.rec_true < REC_FLOOR:
            return None
        return (self.rec_true - self.rec_mapped) / self.rec_true * 100.0

    def to_dict(self) -> dict[str, Any]:
        gap, ref = self.gap, self.random_test
        return {
            "train": self.train.to_dict(),
            "test": self.test.to_dict(),
            "rec_true": self.rec_true,
            "rec_mapped": self.rec_mapped,
            "rec_jaccard": self.rec_jaccard,
            "drop_pct": self.drop_pct,
            "drop_abs": self.drop_abs,
            "drop_below_floor": self.drop_below_floor,
            "alpha": self.alpha,
            "gap": None if gap is None else {"r2": gap[0], "r2_uniform": gap[1]},
            "train_test_gap": {"r2": self.train_test_gap[0], "r2_uniform": self.train_test_gap[1]},
            "random_test": None if ref is None else {"r2": ref[0], "r2_uniform": ref[1]},
            "fit": self.fit,
        }


@dataclass(frozen=True)
class ProbeResult:
    direction: str
    shift: ItemShift
    #: the random reference of the gap; None when it could not be formed (``gap_reason``)
    reference: ItemShift | None
    capacities: dict[str, CapacityResult]
    n_items: int
    dims: tuple[int, int]
    seed: int
    rec: dict[str, Any] | None = field(default=None)
    #: the protocol: early_stop, epochs (fixed epochs or None), max_epochs, raw
    protocol: dict[str, Any] = field(default_factory=dict)
    #: why there is no gap (the random reference could not be formed); None when there is one
    gap_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        head: dict[str, Any] = {
            "direction": self.direction,
            "shift": self.shift.to_dict(),
            "reference_shift": None if self.reference is None else self.reference.to_dict(),
        }
        if self.gap_reason is not None:  # only then: the documents with a gap keep their keys
            head["gap_reason"] = self.gap_reason
        return {
            **head,
            "n_items": self.n_items,
            "dim_source": self.dims[0],
            "dim_target": self.dims[1],
            "seed": self.seed,
            "protocol": self.protocol,
            "rec": None if self.rec is None else {**self.rec, "drop_pct_floor": REC_FLOOR},
            "capacities": {name: res.to_dict() for name, res in self.capacities.items()},
        }


def _row_cosine(a: F64, b: F64) -> F64:
    """Cosine of each row of ``a`` with the same row of ``b`` (0 where a row is zero)."""
    num = np.einsum("ij,ij->i", a, b)
    den = np.sqrt(np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", b, b))
    out: F64 = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return out


def check_options(
    capacities: Sequence[str],
    p: int,
    q: int,
    alpha: float | None,
    rank: int,
    max_epochs: int,
    epochs: int | None,
) -> None:
    """Refuse bad options before any model is fitted."""
    for capacity in capacities:
        if capacity not in CAPACITIES:
            raise UsageError(
                f"unknown --capacity {capacity!r}: choose one of {', '.join(CAPACITIES)} or all"
            )
    if alpha is not None and not alpha > 0:
        raise UsageError(f"--ridge-alpha {alpha}: the ridge penalty must be positive")
    if "lowrank" in capacities and not 1 <= rank <= min(p, q):
        raise UsageError(
            f"--rank {rank}: it must lie in 1..{min(p, q)} (the smaller view dimension)"
        )
    if any(c in probe_models.MLP_LAYERS for c in capacities):
        if epochs is None and max_epochs < 1:
            raise UsageError(f"--max-epochs {max_epochs}: give at least 1")
        if epochs is not None and epochs < 1:
            raise UsageError(f"--epochs {epochs}: give at least 1")


def run_probe(
    source: npt.NDArray[Any],
    target: npt.NDArray[Any],
    shift: ItemShift,
    reference: ItemShift | None,
    capacities: Sequence[str],
    backend: Backend,
    *,
    direction: str = "sem2cf",
    alpha: float | None = None,
    rank: int = 16,
    max_epochs: int = 200,
    epochs: int | None = None,
    raw: bool = False,
    seed: int = 0,
    device: str = "cpu",
    rec: RecTask | None = None,
    progress: Progress | None = None,
    fitted: Mapping[tuple[str, str], Callable[[], Mapped]] | None = None,
    gap_reason: str | None = None,
) -> ProbeResult:
    """Fit every capacity under ``shift`` (and under the random ``reference`` for the gap;
    None: no gap, ``gap_reason`` says why).

    ``epochs``: MLPs train exactly that many epochs without a holdout (None: early stopping,
    at most ``max_epochs``); ``raw``: no L2 row normalisation. An MLP's fit under the reference
    runs in a second thread beside the fit under the shift (each on one torch thread, the
    network initialised under a lock: the same bits as one after the other). With an MLP to
    fit, torch starts loading in a background thread at once, while the capacities before it
    fit; each set's true-side metrics are computed for the first capacity and reused.
    ``fitted[(capacity, "shift" | "reference")]``, where given, returns that fit's mapped
    vectors and info (computed elsewhere, e.g. in a worker process, with the same bits).
    """
    source, target = check_views(source, target, "run_probe", ("source", "target"))
    check_options(capacities, source.shape[1], target.shape[1], alpha, rank, max_epochs, epochs)
    xs, yt = probe_rows(source, target, raw)
    opts: dict[str, Any] = {
        "alpha": alpha,
        "rank": rank,
        "max_epochs": max_epochs,
        "seed": seed,
        "device": device,
        "epochs": epochs,
    }
    true_lists = rec_lists(rec, yt, backend) if rec is not None else None
    rec_true = recall_of(rec, true_lists) if rec is not None and true_lists is not None else None
    separate = reference is not None and reference.kind != shift.kind
    results: dict[str, CapacityResult] = {}
    # the true side of each set's metrics, computed for the first capacity, kept for the others
    train_side, test_side = TrueSide(), TrueSide()
    done = dict(fitted or {})

    def fit(capacity: str, role: str, which: ItemShift) -> Mapped:
        given = done.get((capacity, role))
        return given() if given is not None else mapped_vectors(capacity, xs, yt, which, opts)

    if any(c in probe_models.MLP_LAYERS and (c, "shift") not in done for c in capacities):
        torch_prefetch.prefetch_torch()  # torch loads while the capacities before the MLPs fit
    with ExitStack() as stack:
        stack.callback(torch_prefetch.join_prefetch)
        pool: ThreadPoolExecutor | None = None
        for capacity in capacities:
            if progress is not None:
                progress(capacity)
            ahead: Future[Mapped] | None = None
            fit_here = (capacity, "reference") not in done
            mlp = capacity in probe_models.MLP_LAYERS
            if reference is not None and separate and mlp and fit_here:
                if pool is None:  # one torch session for both threads, from the first MLP on
                    stack.enter_context(probe_models.torch_session())
                    pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
                ahead = pool.submit(mapped_vectors, capacity, xs, yt, reference, opts)
            mapped, info = fit(capacity, "shift", shift)
            test = set_metrics(yt[shift.test], mapped[shift.test], backend, seed, side=test_side)
            random_test: tuple[float, float] | None
            if reference is None:
                random_test = None
            elif not separate:
                random_test = (test.r2, test.r2_uniform)
            else:
                ref_mapped = (
                    ahead.result()[0]
                    if ahead is not None
                    else fit(capacity, "reference", reference)[0]
                )
                random_test = r2_scores(yt[reference.test], ref_mapped[reference.test])
            lists = rec_lists(rec, mapped, backend) if rec is not None else None
            results[capacity] = CapacityResult(
                capacity=capacity,
                train=set_metrics(
                    yt[shift.train], mapped[shift.train], backend, seed, side=train_side
                ),
                test=test,
                fit=info,
                random_test=random_test,
                rec_true=rec_true,
                rec_mapped=recall_of(rec, lists) if rec is not None and lists is not None else None,
                rec_jaccard=(
                    list_jaccard(true_lists, lists)
                    if true_lists is not None and lists is not None
                    else None
                ),
                item_cosine=_row_cosine(mapped, yt),
                item_sq_error=np.einsum("ij,ij->i", mapped - yt, mapped - yt),
            )
    return ProbeResult(
        direction=direction,
        shift=shift,
        reference=reference,
        capacities=results,
        n_items=int(xs.shape[0]),
        dims=(int(xs.shape[1]), int(yt.shape[1])),
        seed=seed,
        rec=rec.to_dict() if rec is not None else None,
        protocol={
            "early_stop": epochs is None,
            "epochs": epochs,
            "max_epochs": max_epochs if epochs is None else None,
            "raw": raw,
        },
        gap_reason=None if reference is not None else gap_reason or "no random reference",
    )
