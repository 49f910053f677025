"""Join the two views on item id, validate rows, and report what was left out.

The shared universe is sorted by id (numerically when every id is an integer, otherwise as
text), so item index ``i`` means the same item in both views and the order does not depend on
which view is given first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError, UsageError
from complement.io.embeddings import Embeddings

__all__ = [
    "RowChecks",
    "Views",
    "join_views",
    "map_ids",
    "row_checks",
    "row_status",
    "sort_ids",
    "valid_rows",
]

_BLOCK = 65536


@dataclass(frozen=True)
class Views:
    """The two views restricted to their shared, valid items, row ``i`` = ``ids[i]``."""

    ids: npt.NDArray[np.str_]
    sem: npt.NDArray[Any]
    cf: npt.NDArray[Any]
    metric: str
    only_semantic: int
    only_collaborative: int
    dropped: dict[str, int] = field(default_factory=dict)
    #: neither view had ids (row ``i`` is item ``i``): the log's item ids are checked against
    #: the row numbers (:func:`complement.io.coverage.log_coverage`)
    positional: bool = False

    @property
    def n_items(self) -> int:
        return int(self.ids.shape[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_items": self.n_items,
            "dim_semantic": int(self.sem.shape[1]),
            "dim_collaborative": int(self.cf.shape[1]),
            "only_semantic": self.only_semantic,
            "only_collaborative": self.only_collaborative,
            "dropped": dict(self.dropped),
            "dropped_total": int(self.dropped.get("total", 0)),
        }


def sort_ids(ids: npt.NDArray[np.str_]) -> npt.NDArray[np.intp]:
    """Order of ``ids``: numeric when all ids are integers, else lexicographic."""
    try:
        as_int = ids.astype(np.int64)
    except (ValueError, OverflowError):
        return np.argsort(ids, kind="stable")
    return np.argsort(as_int, kind="stable")


def map_ids(universe: npt.NDArray[np.str_], query: npt.NDArray[np.str_]) -> npt.NDArray[np.int64]:
    """Position of each query id in ``universe`` (any order), ``-1`` where absent."""
    order = np.argsort(universe, kind="stable")
    sorted_u = universe[order]
    pos = np.searchsorted(sorted_u, query)
    pos_c = np.minimum(pos, max(sorted_u.shape[0] - 1, 0))
    found = (sorted_u.shape[0] > 0) & (sorted_u[pos_c] == query)
    return np.where(found, order[pos_c], -1).astype(np.int64)


#: float32's largest value: rows whose squared norm exceeds it overflow inner products.
_F32_MAX = float(np.finfo(np.float32).max)
#: rows of float64 copies made to compute norms (a few MB, never the whole block)
_NORM_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class RowChecks:
    """Per row of a view: what makes it unusable under a metric (all False where fine).

    ``nonfinite``: a NaN or infinite value. ``zero`` (cosine): all zeros. ``tiny`` (cosine):
    not all zeros, but a norm so small that ``1/norm`` overflows float32, so the row cannot be
    normalised (values near float32's smallest). ``huge`` (ip): a norm whose square exceeds
    float32's range, so the row's inner products overflow. ``norms``: the L2 norm of each row
    that could be tiny or huge (its largest value says it might), NaN for the others.
    """

    nonfinite: npt.NDArray[np.bool_]
    zero: npt.NDArray[np.bool_]
    tiny: npt.NDArray[np.bool_]
    huge: npt.NDArray[np.bool_]
    norms: npt.NDArray[np.float64]


def _squared_norms(block: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Squared L2 norm of each row in float64, as :func:`complement.retrieval.inverse_norms`
    computes it (float64 copies of a few MB at a time)."""
    out = np.empty(block.shape[0], dtype=np.float64)
    rows = max(1, _NORM_BYTES // (8 * max(1, int(block.shape[1]))))
    for start in range(0, block.shape[0], rows):
        part = np.asarray(block[start : start + rows], dtype=np.float64)
        out[start : start + part.shape[0]] = np.einsum("ij,ij->i", part, part)
    return out


def row_checks(matrix: npt.NDArray[Any], metric: str) -> RowChecks:
    """:class:`RowChecks` of every row. Block-wise, so mmaps stay cheap.

    A row's norm lies between its largest absolute value and ``sqrt(dim)`` times it, so that
    value alone clears almost every row; the norm is computed (in float64, exactly as the
    retrieval computes it) only for the rows it cannot clear, with a margin of 2 for rounding.
    """
    n, dim = matrix.shape[0], max(1, int(matrix.shape[1]))
    nonfinite = np.zeros(n, dtype=bool)
    largest = np.zeros(n, dtype=np.float32)
    for start in range(0, n, _BLOCK):
        block = np.asarray(matrix[start : start + _BLOCK])
        stop = start + block.shape[0]
        nonfinite[start:stop] = ~np.isfinite(block).all(axis=1)
        with np.errstate(invalid="ignore"):  # NaN rows are flagged above
            largest[start:stop] = np.abs(block).max(axis=1) if block.shape[1] else 0.0
    ok = ~nonfinite & (largest != 0)
    zero = ~nonfinite & (largest == 0) if metric == "cosine" else np.zeros(n, dtype=bool)
    if metric == "cosine":  # 1/norm overflows float32 only if norm < 1 / max
        maybe = ok & (largest < 2.0 / _F32_MAX)
    else:  # the squared norm exceeds float32 only if norm > sqrt(max)
        maybe = ok & (largest > math.sqrt(_F32_MAX) / (2.0 * math.sqrt(dim)))
    rows = np.flatnonzero(maybe)
    with np.errstate(over="ignore"):
        sq = _squared_norms(np.asarray(matrix[rows]))
    norms = np.full(n, np.nan)
    norms[rows] = np.sqrt(sq)
    tiny = np.zeros(n, dtype=bool)
    huge = np.zeros(n, dtype=bool)
    if metric == "cosine":
        with np.errstate(divide="ignore", over="ignore"):
            inverse = (1.0 / np.sqrt(sq)).astype(np.float32)  # as inverse_norms stores it
        tiny[rows] = ~np.isfinite(inverse)
    else:
        huge[rows] = sq > _F32_MAX
    return RowChecks(nonfinite, zero, tiny, huge, norms)


def row_status(
    matrix: npt.NDArray[Any], metric: str
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per row: (has NaN/inf, has no cosine under cosine: all zeros, or a norm that underflows
    float32). Block-wise, so mmaps stay cheap."""
    checks = row_checks(matrix, metric)
    return checks.nonfinite, checks.zero | checks.tiny


def _describe(ids: npt.NDArray[np.str_], mask: npt.NDArray[np.bool_]) -> str:
    first = ", ".join(ids[mask][:5].tolist())
    return f"{int(mask.sum())} rows (first ids: {first})"


def _take(matrix: npt.NDArray[Any], rows: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
    if rows.shape[0] == matrix.shape[0] and np.array_equal(rows, np.arange(matrix.shape[0])):
        return matrix  # identity: keep a memory map as it is
    return np.ascontiguousarray(matrix[np.sort(rows)][np.argsort(np.argsort(rows))])


def valid_rows(
    views: Sequence[tuple[Embeddings, npt.NDArray[np.intp], str, str]],
    shared: npt.NDArray[np.str_],
    metric: str,
    drop_invalid: bool,
) -> tuple[npt.NDArray[np.bool_], dict[str, int]]:
    """Which shared items every view can score: (keep mask, counts dropped per view).

    ``views`` holds (embeddings, row of each shared item, name in the counts, name in
    messages). NaN/infinite rows, and under cosine all-zero rows and rows whose norm
    underflows float32 (counted as zero rows), are refused, or with ``drop_invalid`` left out;
    under ip, rows whose inner products overflow float32 are always refused; fewer than 2
    items left is refused.
    """
    dropped: dict[str, int] = {}
    bad = np.zeros(shared.shape[0], dtype=bool)
    for emb, idx, name, what in views:
        checks = row_checks(emb.matrix, metric)
        nonfinite, zero, tiny = checks.nonfinite[idx], checks.zero[idx], checks.tiny[idx]
        if not drop_invalid:
            if nonfinite.any():
                raise InputError(
                    f"{what}: {_describe(shared, nonfinite)} contain NaN or infinite values; "
                    "fix them or pass --drop-invalid to leave those items out"
                )
            if zero.any():
                raise InputError(
                    f"{what}: {_describe(shared, zero)} are all zeros, which have no cosine; "
                    "pass --drop-invalid to leave those items out, or --metric ip"
                )
            if tiny.any():
                raise InputError(
                    f"{what}: {_describe(shared, tiny)} have a norm below {1 / _F32_MAX:.2g}, "
                    "too small for float32 (1/norm overflows), so they have no cosine; rescale "
                    "the vectors (e.g. L2-normalise them), or pass --drop-invalid to leave "
                    "those items out"
                )
        huge = checks.huge[idx]
        if huge.any():  # not a bad row but a bad scale: never dropped
            raise InputError(
                f"{what}: {_describe(shared, huge)} have a norm above {math.sqrt(_F32_MAX):.2g} "
                f"(largest {float(checks.norms[idx][huge].max()):.3g}), so their inner products "
                "overflow float32 under --metric ip; rescale the vectors (e.g. divide them by a "
                "constant), or use --metric cosine"
            )
        zero = zero | tiny
        dropped[f"{name}_nonfinite"] = int(nonfinite.sum())
        if metric == "cosine":
            dropped[f"{name}_zero"] = int(zero.sum())
        bad |= nonfinite | zero
    dropped["total"] = int(bad.sum())
    keep = ~bad
    if int(keep.sum()) < 2:
        raise InputError(
            f"after --drop-invalid only {int(keep.sum())} valid shared items remain (need 2); "
            "the views are mostly NaN/infinite/zero; fix the embeddings"
        )
    return keep, dropped


def join_views(
    sem: Embeddings,
    cf: Embeddings,
    *,
    metric: str = "cosine",
    drop_invalid: bool = False,
    positional_ids: bool = False,
    min_shared: float = 0.5,
) -> Views:
    """Join on id, validate rows, and either refuse or (``drop_invalid``) drop bad rows.

    A view without ids (row ``i`` is id ``i``) joins another such view row by row; joining it
    with a view that has real ids is refused unless ``positional_ids`` (most often the ids are
    off by one, or the row order is not the id order). Fewer shared items than ``min_shared``
    times the smaller view's item count is refused too: a sign the ids do not match.
    """
    if metric not in ("cosine", "ip"):
        raise UsageError(f"unknown --metric {metric!r}: choose cosine or ip")
    if not (isinstance(min_shared, int | float) and 0.0 <= min_shared <= 1.0):
        raise UsageError(f"--min-shared {min_shared}: must lie in [0, 1] (a fraction of items)")
    if sem.ids_from_rows and cf.ids_from_rows and sem.shape[0] != cf.shape[0]:
        raise InputError(
            f"{sem.path} has {sem.shape[0]} rows and {cf.path} has {cf.shape[0]} rows and neither "
            "has ids; give ids with --sem-ids / --cf-ids (or .npz/.parquet files with ids)"
        )
    shared, s_idx, c_idx = np.intersect1d(sem.ids, cf.ids, assume_unique=True, return_indices=True)
    order = sort_ids(shared)
    shared, s_idx, c_idx = shared[order], s_idx[order], c_idx[order]
    only_s = sem.shape[0] - shared.shape[0]
    only_c = cf.shape[0] - shared.shape[0]
    if shared.shape[0] < 2:
        raise InputError(
            f"{sem.path} and {cf.path} share {shared.shape[0]} item ids (need at least 2): "
            f"{_mismatch(sem, cf, shared.shape[0])}; check that both views use the same ids "
            "(--sem-ids / --cf-ids)"
        )
    if sem.ids_from_rows != cf.ids_from_rows and not positional_ids:
        pos, real = (sem, cf) if sem.ids_from_rows else (cf, sem)
        flag = "--sem-ids" if pos is sem else "--cf-ids"
        raise InputError(
            f"{pos.path} has no ids (its rows are numbered 0..{pos.shape[0] - 1}) but {real.path} "
            f"has ids, so joining them would pair items by row number: "
            f"{_mismatch(sem, cf, shared.shape[0])}; give {pos.path}'s ids with {flag}, or pass "
            f"--positional-ids if row i of {pos.path} really is the item with id i"
        )
    smaller = min(sem.shape[0], cf.shape[0])
    if shared.shape[0] < min_shared * smaller:
        frac = shared.shape[0] / smaller
        allow = math.floor(frac * 100) / 100
        raise InputError(
            f"{sem.path} and {cf.path} share only {shared.shape[0]} item ids, {frac:.0%} of the "
            f"smaller view's {smaller} (--min-shared {min_shared:g} needs "
            f"{math.ceil(min_shared * smaller)}), a sign that their ids do not match: "
            f"{_mismatch(sem, cf, shared.shape[0])}; check that both views use the same ids "
            f"(--sem-ids / --cf-ids), or pass --min-shared {allow:g} if they really cover "
            "different items"
        )
    keep, dropped = valid_rows(
        [
            (sem, s_idx, "semantic", f"semantic embeddings {sem.path}"),
            (cf, c_idx, "collaborative", f"collaborative embeddings {cf.path}"),
        ],
        shared,
        metric,
        drop_invalid,
    )
    return Views(
        ids=shared[keep],
        sem=_take(sem.matrix, s_idx[keep]),
        cf=_take(cf.matrix, c_idx[keep]),
        metric=metric,
        only_semantic=int(only_s),
        only_collaborative=int(only_c),
        dropped=dropped,
        positional=sem.ids_from_rows and cf.ids_from_rows,
    )


# ------------------------------------------------------------------- why ids may not match

_INT_LIKE = re.compile(r"[+-]?\d+(\.0*)?")


def _normalise(ids: npt.NDArray[np.str_]) -> list[str]:
    """Integer-like text written one way: '001', '+1', '1.0', '1.' -> '1'; others unchanged."""
    out = []
    for s in ids.tolist():
        if len(s) <= 40 and _INT_LIKE.fullmatch(s):
            out.append(str(int(s.split(".", 1)[0])))
        else:
            out.append(s)
    return out


def _as_ints(ids: list[str]) -> list[int] | None:
    if any(len(s) > 40 for s in ids):
        return None
    try:
        return [int(s) for s in ids]
    except ValueError:
        return None


def _range(emb: Embeddings) -> str:
    name = emb.role if emb.role in ("semantic", "collaborative") else emb.path
    if emb.ids_from_rows:
        return f"{name} row numbers 0..{emb.shape[0] - 1} (no ids given)"
    values = _as_ints(_normalise(emb.ids))
    if values is not None:  # integer-like ids: their numeric extremes, as written
        lo, hi = int(np.argmin(values)), int(np.argmax(values))
    else:
        order = sort_ids(emb.ids)
        lo, hi = int(order[0]), int(order[-1])
    return f"{name} ids {emb.ids[lo]}..{emb.ids[hi]} ({emb.shape[0]} items)"


def _mismatch(sem: Embeddings, cf: Embeddings, n_shared: int) -> str:
    """Both id ranges, and the likely cause when it is a common one (a shift, a format)."""
    text = f"{_range(sem)}, {_range(cf)}"
    need = max(2, math.ceil(0.5 * min(sem.shape[0], cf.shape[0])))
    a, b = _normalise(sem.ids), _normalise(cf.ids)
    set_b = set(b)
    same = sum(1 for x in a if x in set_b)
    if same > n_shared and same >= need:
        raw_b = dict(zip(b, cf.ids.tolist(), strict=True))
        x, y = next(
            (s, raw_b[n]) for s, n in zip(sem.ids.tolist(), a, strict=True)
            if n in raw_b and raw_b[n] != s
        )  # fmt: skip
        return (
            f"{text}; the ids match once written alike ({sem.path} has {x!r} where {cf.path} "
            f"has {y!r}: decimals like '1.0' or leading zeros like '001' against plain "
            "integers), so write them the same way in both"
        )
    ia, ib = _as_ints(a), _as_ints(b)
    if not ia or not ib:
        return text
    int_b = set(ib)
    best, best_delta = same, 0
    for delta in {min(ia) - min(ib), max(ia) - max(ib), 1, -1}:
        if delta == 0:
            continue
        hits = sum(1 for x in ia if x - delta in int_b)
        if hits > best:
            best, best_delta = hits, delta
    if best_delta == 0 or best < need:
        return text
    shift = "one" if abs(best_delta) == 1 else str(abs(best_delta))
    hint = (
        f"{text}; the ids look shifted by {shift}: {best} items match if {sem.role} id i is "
        f"{cf.role} id i{-best_delta:+d}"
    )
    if abs(best_delta) == 1 and (sem.ids_from_rows or cf.ids_from_rows):
        hint += " (row numbers start at 0; item ids often start at 1)"
    return hint
