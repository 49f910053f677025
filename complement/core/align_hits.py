"""Hits of a strategy's top-K lists against each raw view's: overlap and private survival.

Against a raw view V (W = the other raw view): ``common = Σ|H_A ∩ H_V|``,
``strategy_only = Σ|H_A \\ H_V|``, ``view_only = Σ|H_V \\ H_A|`` (H = top-20 ∩ T_u), list
Jaccard and complementary ratio as in ``complement hits``; V's private hits are
``H_V \\ H_W``; ``private_survival = Σ|(H_V \\ H_W) ∩ H_A| / Σ|H_V \\ H_W|``: the share of
the signal only V had that survived alignment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from complement.core.align_protocol import IntArray, K
from complement.core.evaluation import EvalData
from complement.core.metrics import hit_matrix, row_isin
from complement.core.stats import Estimate, bootstrap_estimates, estimates_dict

__all__ = ["VIEWS", "StrategyHits", "strategy_hits"]

VIEWS = ("semantic", "collaborative")


@dataclass(frozen=True)
class StrategyHits:
    """One strategy's hits against one raw view in one setting."""

    view: str
    list_jaccard: Estimate
    hits: dict[str, int]
    complementary_ratio: Estimate
    private_hits: int
    private_survived: int
    private_survival: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "hits": dict(self.hits),
            "private_hits": self.private_hits,
            "private_survived": self.private_survived,
            **estimates_dict(
                {
                    "list_jaccard": self.list_jaccard,
                    "complementary_ratio": self.complementary_ratio,
                    "private_survival": self.private_survival,
                }
            ),
        }


def strategy_hits(
    ev: EvalData,
    strategy: IntArray,
    views: Mapping[str, IntArray],
    k: int = K,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, StrategyHits]:
    """Hits of a strategy's top-k lists against each of the two raw views' lists."""
    a = strategy[:, :k]
    ha = hit_matrix(a, ev)
    lists = {v: views[v][:, :k] for v in VIEWS}
    hv = {v: hit_matrix(lists[v], ev) for v in VIEWS}
    out: dict[str, StrategyHits] = {}
    for v, w in (("semantic", "collaborative"), ("collaborative", "semantic")):
        b = lists[v]
        a_in_b, b_in_a = row_isin(a, b), row_isin(b, a)
        common = (ha & a_in_b).sum(axis=1).astype(np.float64)
        only_a = (ha & ~a_in_b).sum(axis=1).astype(np.float64)
        only_b = (hv[v] & ~b_in_a).sum(axis=1).astype(np.float64)
        private = hv[v] & ~row_isin(b, lists[w])
        survived = (private & b_in_a).sum(axis=1).astype(np.float64)
        n_private = private.sum(axis=1).astype(np.float64)
        inter = a_in_b.sum(axis=1)
        union = (a >= 0).sum(axis=1) + (b >= 0).sum(axis=1) - inter
        jac = np.divide(inter, union, out=np.zeros(ev.n_users), where=union > 0)
        est = bootstrap_estimates(
            {
                "list_jaccard": jac,
                "complementary_ratio": (only_a + only_b, common + only_a + only_b),
                "private_survival": (survived, n_private),
            },
            n_boot=n_boot,
            seed=seed,
        )
        out[v] = StrategyHits(
            view=v,
            list_jaccard=est["list_jaccard"],
            hits={
                "common": int(common.sum()),
                "strategy_only": int(only_a.sum()),
                "view_only": int(only_b.sum()),
            },
            complementary_ratio=est["complementary_ratio"],
            private_hits=int(n_private.sum()),
            private_survived=int(survived.sum()),
            private_survival=est["private_survival"],
        )
    return out
