"""One item's nearest neighbours in each view, side by side, and which both views agree on.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``): the k
nearest items of the item in each view by cosine on L2-normalised rows (``--metric ip``: raw
inner product), the item itself excluded, exact, ties by lower item index; ``shared`` = the
neighbours present in both lists, in the semantic list's order; ``overlap = |shared| / k``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.validate import check_views
from complement.errors import UsageError
from complement.retrieval import Backend, inverse_norms, item_knn

__all__ = ["DEFINITIONS", "Explanation", "explain_item"]

DEFINITIONS = {
    "neighbours": "the k nearest items in each view (cosine on L2-normalised rows, or raw inner "
    "product under --metric ip), the item itself excluded, exact, ties by lower item index",
    "shared": "neighbours present in both views' lists (in the semantic list's order)",
    "overlap": "|shared| / k",
}


@dataclass(frozen=True)
class Explanation:
    item: dict[str, Any]
    k: int
    semantic: list[dict[str, Any]]
    collaborative: list[dict[str, Any]]
    shared: list[str]

    @property
    def overlap(self) -> float:
        return len(self.shared) / self.k

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "k": self.k,
            "overlap": self.overlap,
            "shared": self.shared,
            "semantic": self.semantic,
            "collaborative": self.collaborative,
        }


def _neighbours(
    matrix: npt.NDArray[Any], item: int, k: int, backend: Backend, cosine: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    idx = item_knn(matrix, k, backend, query_index=np.array([item]), cosine=cosine)[0]
    idx = idx[idx >= 0]
    rows = np.asarray(matrix[np.concatenate([[item], idx])], dtype=np.float64)
    if cosine:
        rows = rows * inverse_norms(rows)[:, None].astype(np.float64)
    return idx, rows[1:] @ rows[0]


def explain_item(
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    item: int,
    k: int,
    backend: Backend,
    *,
    ids: npt.NDArray[Any],
    titles: list[str | None] | None = None,
    metric: str = "cosine",
) -> Explanation:
    """Neighbours of item index ``item`` in both views, labelled with ids and titles."""
    sem, cf = check_views(sem, cf, "explain_item")
    n = int(sem.shape[0])
    if not 0 <= item < n:
        raise UsageError(f"item index {item} is outside 0..{n - 1}")
    if not 1 <= k < n:
        raise UsageError(f"--neighbours {k}: it must lie in 1..{n - 1} (the number of items - 1)")
    cosine = metric == "cosine"
    names: list[str | None] = titles if titles is not None else [None] * n
    lists = {}
    for view, matrix in (("semantic", sem), ("collaborative", cf)):
        lists[view] = _neighbours(matrix, item, k, backend, cosine)
    in_cf = set(lists["collaborative"][0].tolist())
    in_sem = set(lists["semantic"][0].tolist())
    shared = [int(i) for i in lists["semantic"][0].tolist() if i in in_cf]

    def rows(view: str, other: set[int]) -> list[dict[str, Any]]:
        idx, sims = lists[view]
        return [
            {"id": str(ids[i]), "title": names[i], "similarity": float(s), "in_both": i in other}
            for i, s in zip(idx.tolist(), sims.tolist(), strict=True)
        ]

    return Explanation(
        item={"id": str(ids[item]), "title": names[item], "index": int(item)},
        k=k,
        semantic=rows("semantic", in_cf),
        collaborative=rows("collaborative", in_sem),
        shared=[str(ids[i]) for i in shared],
    )
