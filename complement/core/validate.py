"""Entry checks of the array functions that ``complement`` exports (``item_overlap``, ...).

Called with arrays directly rather than through the loaders, they refuse what the loaders
would (a 1-D array, views with different rows, NaN or infinite values, ``k`` that is not a
whole number) with a one-line :class:`~complement.errors.ComplementError` rather than an
IndexError deep inside or a NaN in the result. Each check reads a matrix once at most.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError, UsageError

__all__ = ["as_ks", "check_matrix", "check_views"]

#: rows per block of the exact finiteness check (float64 input whose sum overflowed)
_BLOCK_ROWS = 65536


def _all_finite(arr: npt.NDArray[Any]) -> bool:
    """Whether every value is finite, in one pass: the float64 sum of the values is finite
    exactly when they all are (a float32 sum cannot overflow float64); only a float64 array
    whose sum overflows is read again, block by block."""
    if arr.dtype.kind != "f":
        return True
    with np.errstate(over="ignore", invalid="ignore"):  # inf + -inf is NaN: not finite
        total = arr.sum(dtype=np.float64)
    if np.isfinite(total):
        return True
    if arr.dtype.itemsize < 8:
        return False
    return all(
        bool(np.isfinite(arr[i : i + _BLOCK_ROWS]).all())
        for i in range(0, arr.shape[0], _BLOCK_ROWS)
    )


def check_matrix(value: Any, name: str, where: str) -> npt.NDArray[Any]:
    """``value`` as a non-empty 2-D numeric array of finite values (not copied)."""
    arr = value if isinstance(value, np.ndarray) else np.asarray(value)  # a memmap stays one
    if arr.ndim != 2:
        raise InputError(
            f"{where}: {name} has shape {arr.shape}; give a 2-D array (rows x dimensions)"
        )
    if arr.dtype.kind not in "fiu":
        raise InputError(f"{where}: {name} has dtype {arr.dtype}; give a numeric array")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{where}: {name} is empty (shape {arr.shape}); give rows and columns")
    if not _all_finite(arr):
        raise InputError(
            f"{where}: {name} holds NaN or infinite values; fix or drop those rows first"
        )
    return arr


def check_views(
    sem: Any, cf: Any, where: str, names: tuple[str, str] = ("sem", "cf")
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Two views of the same items: each checked by :func:`check_matrix`, the same rows."""
    a = check_matrix(sem, names[0], where)
    b = check_matrix(cf, names[1], where)
    if a.shape[0] != b.shape[0]:
        raise UsageError(
            f"{where}: {names[0]} has {a.shape[0]} rows and {names[1]} {b.shape[0]}; the two "
            "views must have the same items in the same order (join them first)"
        )
    return a, b


def as_ks(ks: Any, where: str, name: str = "ks") -> tuple[int, ...]:
    """``ks``, one whole number or an iterable of them (numpy integers too), as a tuple."""
    items: Iterable[Any] = [ks] if isinstance(ks, (int, np.integer)) else ks
    if isinstance(ks, (str, bytes)) or not isinstance(items, Iterable):
        raise UsageError(f"{where}: {name}={ks!r}: give an integer or a list of integers")
    out: list[int] = []
    for k in items:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise UsageError(f"{where}: {name}={ks!r}: {k!r} is not an integer")
        out.append(int(k))
    return tuple(out)
