"""A trained system over its seeds in one setting: per-seed values, mean, sd, pooled test.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- Per seed: Recall@20 and NDCG@20 of the system trained with that seed (the setting's users).
- ``mean`` / ``sd``: mean and sample standard deviation (ddof = 1; null for one seed) of the
  per-seed values.
- Pooled test (``p``): per user, the Recall@20 averaged over the seeds, against the per-user
  Recall@20 of the setting's best single view, by the paired bootstrap test of
  ``complement oracle`` (same resamples: ``n_boot``, ``seed``). With one seed it is the list's
  own paired test (``p_value``).
- ``p_holm``: Holm's adjustment of ``p`` over every paired test of the document
  (:mod:`complement.core.multiple`): each fusion's and each trained system's, in every setting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from complement.core.align_protocol import IntArray, K
from complement.core.evaluation import EvalData
from complement.core.metrics import evaluate_lists
from complement.core.multiple import holm
from complement.core.stats import PairedTest, paired_bootstrap

__all__ = ["DEFINITIONS", "SeedSummary", "holm_family", "seed_summary"]

DEFINITIONS = {
    "seeds": "per trained system and setting: Recall@20 and NDCG@20 of the system trained "
    "with each seed (seed, seed + 1, ...), the tuned grid point retrained for every seed",
    "seed_mean_sd": "mean and sample standard deviation (ddof = 1; null for one seed) of the "
    "per-seed values",
    "p": "paired bootstrap test (as in complement oracle) of the per-user Recall@20 averaged "
    "over the seeds against the per-user Recall@20 of the setting's best single view; for a "
    "fusion, its own paired test (p_value)",
}


@dataclass(frozen=True)
class SeedSummary:
    """One trained system's per-seed values in one setting and the pooled paired test."""

    seeds: list[int]
    recall: list[float]
    ndcg: list[float]
    versus: str
    test: PairedTest

    def to_dict(self) -> dict[str, Any]:
        def sd(values: list[float]) -> float | None:
            return float(np.std(values, ddof=1)) if len(values) > 1 else None

        return {
            "seeds": [
                {"seed": s, "recall": r, "ndcg": n}
                for s, r, n in zip(self.seeds, self.recall, self.ndcg, strict=True)
            ],
            "mean": {"recall": float(np.mean(self.recall)), "ndcg": float(np.mean(self.ndcg))},
            "sd": {"recall": sd(self.recall), "ndcg": sd(self.ndcg)},
            "pooled": {
                "versus": self.versus,
                "mean_diff": self.test.mean_diff,
                "ci95_diff": list(self.test.ci95_diff),
            },
            "p": self.test.p_value,
        }


def seed_summary(
    ev: EvalData,
    lists: Sequence[IntArray],
    seeds: Sequence[int],
    best: IntArray,
    versus: str,
    *,
    n_boot: int,
    seed: int,
) -> SeedSummary:
    """Per-seed metrics of ``lists`` (one array per seed) and the pooled test against ``best``."""
    per = [evaluate_lists(x[:, :K], ev, [K])[K] for x in lists]
    pooled = np.mean(np.stack([m.recall for m in per]), axis=0)
    base = evaluate_lists(best[:, :K], ev, [K])[K].recall
    return SeedSummary(
        seeds=[int(s) for s in seeds],
        recall=[float(m.recall.mean()) for m in per],
        ndcg=[float(m.ndcg.mean()) for m in per],
        versus=versus,
        test=paired_bootstrap(pooled, base, n_boot=n_boot, seed=seed),
    )


def holm_family(p: Mapping[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """Holm-adjusted values of a family keyed by (setting, system)."""
    keys = list(p)
    adjusted = holm([p[k] for k in keys])
    return {k: float(v) for k, v in zip(keys, adjusted.tolist(), strict=True)}
