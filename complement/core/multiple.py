"""Multiple-comparison correction of a family of p-values (Holm's step-down method).

Definition (fixed; also in docs/definitions.md and the JSON under ``definitions``): for m
p-values sorted ascending ``p_(1) ≤ … ≤ p_(m)``, the Holm-adjusted value of the j-th is
``min(1, max_{i ≤ j} (m − i + 1) · p_(i))``; ties in p keep their input order. NaN (a test
that could not run) takes no part in the family and stays NaN. Rejecting where the adjusted
value is at most α controls the family-wise error rate at α under any dependence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["DEFINITIONS", "holm"]

DEFINITIONS = {
    "p_holm": "Holm's step-down adjustment over the whole family of paired tests of the "
    "document: p-values sorted ascending p_(1) <= ... <= p_(m), adjusted p_(j) = min(1, "
    "max_{i <= j} (m - i + 1) p_(i)); tests without a p-value take no part",
}


def holm(p: Sequence[float] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Holm-adjusted p-values, in the input order (NaN stays NaN and is not counted)."""
    arr = np.asarray(p, dtype=np.float64)
    out = np.full(arr.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(arr))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(arr[ok], kind="stable")]
    scaled = (m - np.arange(m)) * arr[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out
