"""Oracle bounds and fusion results per K from ranked lists, with their bootstrap intervals.

Given each evaluated user's ranked lists of the two views and of the fused systems, this module
computes the per-user columns (Recall@K and NDCG@K of every list, the ``union``, ``budget`` and
``select`` bounds), estimates them all from the same bootstrap resamples, and assembles the
table of one K: best single view, gains, headroom and paired tests of each fusion, and the same
again within each popularity group. The definitions are those of :mod:`complement.core.oracle`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, check_ks, check_n_boot, restrict_targets
from complement.core.hits import VIEWS
from complement.core.metrics import hit_matrix, ranking_metrics, row_isin
from complement.core.popularity import GROUPS, popularity_groups
from complement.core.stats import (
    Estimate,
    PairedTest,
    bootstrap_tables,
    estimates_dict,
    paired_bootstraps,
)

__all__ = ["BOUNDS", "FusionAtK", "OracleAtK", "oracle_from_lists"]

BOUNDS = ("union", "budget", "select")


@dataclass(frozen=True)
class FusionAtK:
    recall: Estimate
    ndcg: Estimate
    headroom: float
    test: PairedTest | None
    alpha: float | None = None
    headroom_select: float = float("nan")
    #: the bounds whose mean Recall@K this fusion is strictly above
    exceeds_oracle: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **estimates_dict({"recall": self.recall, "ndcg": self.ndcg}),
            "headroom": self.headroom,
            "headroom_select": self.headroom_select,
            "exceeds_oracle": list(self.exceeds_oracle),
        }
        if self.test is not None:
            out["mean_diff"] = self.test.mean_diff
            out["p_value"] = self.test.p_value
            out["ci95_diff"] = list(self.test.ci95_diff)
        if self.alpha is not None:
            out["alpha"] = self.alpha
        return out


@dataclass(frozen=True)
class OracleAtK:
    k: int
    n_users: int
    n_targets: int
    recall: dict[str, Estimate]
    ndcg: dict[str, Estimate]
    oracle: dict[str, Estimate]
    best_single: str
    gain: dict[str, float]
    fusion: dict[str, FusionAtK]
    groups: dict[str, OracleAtK] | None = None

    def to_dict(self) -> dict[str, Any]:
        best = self.recall[self.best_single]
        out: dict[str, Any] = {
            "n_users": self.n_users,
            "n_targets": self.n_targets,
            "recall": estimates_dict(self.recall),
            "ndcg": estimates_dict(self.ndcg),
            "oracle": estimates_dict(self.oracle),
            "best_single": {
                "view": self.best_single,
                **estimates_dict({"recall": best, "ndcg": self.ndcg[self.best_single]}),
            },
            "gain": dict(self.gain),
            "fusion": {name: f.to_dict() for name, f in self.fusion.items()},
        }
        if self.groups is not None:
            out["groups"] = {name: g.to_dict() for name, g in self.groups.items()}
        return out


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 and np.isfinite(den) else float("nan")


def _columns(
    ev: EvalData,
    views: dict[str, npt.NDArray[np.int64]],
    fused: dict[str, npt.NDArray[np.int64]],
    k: int,
) -> tuple[dict[str, Any], dict[str, npt.NDArray[np.float64]]]:
    """Per-user columns to estimate at one K, and per-user Recall@K of every list."""
    s, c = views["semantic"][:, :k], views["collaborative"][:, :k]
    hs, hc = hit_matrix(s, ev), hit_matrix(c, ev)
    size = ev.n_targets
    metrics = {
        "semantic": ranking_metrics(hs, size, [k])[k],
        "collaborative": ranking_metrics(hc, size, [k])[k],
    }
    for name, lists in fused.items():
        metrics[name] = ranking_metrics(hit_matrix(lists[:, :k], ev), size, [k])[k]
    common = (hs & row_isin(s, c)).sum(axis=1)
    union_hits = metrics["semantic"].n_hits + metrics["collaborative"].n_hits - common
    columns: dict[str, Any] = {}
    for name, m in metrics.items():
        columns[f"recall_{name}"] = m.recall
        columns[f"ndcg_{name}"] = m.ndcg
    columns["union"] = union_hits / size
    columns["budget"] = np.minimum(k, union_hits) / size
    columns["select"] = np.maximum(metrics["semantic"].recall, metrics["collaborative"].recall)
    return columns, {name: m.recall for name, m in metrics.items()}


def _best_single(est: dict[str, Estimate]) -> str:
    """The view of the higher mean Recall@K (semantic on a tie)."""
    return max(VIEWS, key=lambda v: (est[f"recall_{v}"].value, v == "semantic"))


def _assemble(
    k: int,
    ev: EvalData,
    est: dict[str, Estimate],
    recall: dict[str, npt.NDArray[np.float64]],
    fused: Sequence[str],
    *,
    alpha: float | None,
    tests: dict[str, PairedTest] | None,
) -> OracleAtK:
    best = _best_single(est)
    best_value = est[f"recall_{best}"].value
    budget, select = est["budget"].value, est["select"].value
    fusion = {
        name: FusionAtK(
            recall=est[f"recall_{name}"],
            ndcg=est[f"ndcg_{name}"],
            headroom=_ratio(est[f"recall_{name}"].value - best_value, budget - best_value),
            headroom_select=_ratio(est[f"recall_{name}"].value - best_value, select - best_value),
            exceeds_oracle=tuple(b for b in BOUNDS if est[f"recall_{name}"].value > est[b].value),
            test=None if tests is None else tests[name],
            alpha=alpha if name == "score_interpolation" else None,
        )
        for name in fused
    }
    return OracleAtK(
        k=k,
        n_users=ev.n_users,
        n_targets=int(ev.n_targets.sum()),
        recall={v: est[f"recall_{v}"] for v in VIEWS},
        ndcg={v: est[f"ndcg_{v}"] for v in VIEWS},
        oracle={b: est[b] for b in BOUNDS},
        best_single=best,
        gain={b: _ratio(est[b].value - best_value, best_value) for b in BOUNDS},
        fusion=fusion,
    )


def _per_k(
    ev: EvalData,
    views: dict[str, npt.NDArray[np.int64]],
    fused_per_k: dict[int, dict[str, npt.NDArray[np.int64]]],
    ks: Sequence[int],
    *,
    alpha: dict[int, float] | None,
    paired: bool,
    n_boot: int,
    seed: int,
) -> dict[int, OracleAtK]:
    """Every K for lists of exactly the users of ``ev`` (one bootstrap for all K)."""
    columns, recall = {}, {}
    for k in ks:
        columns[k], recall[k] = _columns(ev, views, fused_per_k.get(k, {}), k)
    est = bootstrap_tables(columns, n_boot=n_boot, seed=seed)
    tests: dict[int, dict[str, PairedTest]] | None = None
    if paired:  # each fusion against the best view at its K, all from the same resamples
        keys = [(k, name) for k in ks for name in fused_per_k.get(k, {})]
        pairs = [(recall[k][name], recall[k][_best_single(est[k])]) for k, name in keys]
        drawn = paired_bootstraps(pairs, n_boot=n_boot, seed=seed)
        tests = {k: {} for k in ks}
        for (k, name), test in zip(keys, drawn, strict=True):
            tests[k][name] = test
    return {
        k: _assemble(
            k,
            ev,
            est[k],
            recall[k],
            list(fused_per_k.get(k, {})),
            alpha=None if alpha is None else alpha.get(k),
            tests=None if tests is None else tests[k],
        )
        for k in ks
    }


def oracle_from_lists(
    ev: EvalData,
    views: dict[str, npt.NDArray[np.int64]],
    fused_per_k: dict[int, dict[str, npt.NDArray[np.int64]]],
    ks: Sequence[int],
    *,
    alpha: dict[int, float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    groups: bool = True,
) -> dict[int, OracleAtK]:
    """Bounds and fusion results per K from ranked lists (one row per evaluated user).

    Paired tests are run on all evaluated users; within popularity groups fusion is reported
    without one.
    """
    ks = check_ks(ks, ev.n_items)
    check_n_boot(n_boot)
    per_k = _per_k(ev, views, fused_per_k, ks, alpha=alpha, paired=True, n_boot=n_boot, seed=seed)
    if not groups:
        return per_k
    item_group = popularity_groups(ev.popularity)
    by_group: dict[str, dict[int, OracleAtK]] = {}
    for g, name in enumerate(GROUPS):
        rows, sub = restrict_targets(ev, item_group == g)
        if rows.size == 0:
            continue
        by_group[name] = _per_k(
            sub,
            {v: lists[rows] for v, lists in views.items()},
            {k: {f: lists[rows] for f, lists in fused.items()} for k, fused in fused_per_k.items()},
            ks,
            alpha=alpha,
            paired=False,
            n_boot=n_boot,
            seed=seed,
        )
    return {
        k: replace(row, groups={name: res[k] for name, res in by_group.items()})
        for k, row in per_k.items()
    }
