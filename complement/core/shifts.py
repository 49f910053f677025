"""Distribution shifts: which items a probe is fitted on (train) and scored on (test).

Definitions (fixed; also in docs/definitions.md and the probe JSON under ``definitions``):

- ``random``: a seeded permutation of the items; the first ``floor(0.2 n)`` are test, the rest
  train (the paper's setting and the in-distribution reference).
- ``temporal``: an item's first interaction is the earliest timestamp of any log row with that
  item (train or test part). Train = items first seen before the cutoff, test = items first
  seen at or after it (new items). Items absent from the log are in neither side. The cutoff is
  the split's global cutoff (``--split temporal``); for splits without one (``user-temporal``,
  ``random``, ``files``) it is the global temporal cutoff ``make_split("temporal", ...)`` would
  use: ``--cutoff`` when given, else the timestamp at position ``floor((1 - test_frac) N)`` of
  the time-sorted log.
- ``popularity``: items ranked by train interaction count ascending (ties: lower item index
  first); the first ``floor(tail_frac n)`` (the least popular) are test, the rest train.
- ``cold``: test = items with at most ``max_interactions`` train interactions, train = the rest.
- ``none``: train = test = every item (pure capacity, in-sample).

Train interactions are the log rows outside the split's test part (train plus validation);
log rows whose item has no embedding are ignored. Every side must hold at least 20 items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.popularity import item_counts
from complement.core.splits import TEST, Split, make_split
from complement.errors import UsageError

__all__ = [
    "DEFINITIONS",
    "MIN_ITEMS",
    "NEEDS_LOG",
    "RANDOM_TEST_FRAC",
    "SHIFT_KINDS",
    "ItemShift",
    "first_seen",
    "make_item_shift",
    "random_reference",
    "shift_from_log",
]

SHIFT_KINDS = ("random", "temporal", "popularity", "cold", "none")
#: the shifts decided by the interaction log
NEEDS_LOG = ("temporal", "popularity", "cold")
MIN_ITEMS = 20
RANDOM_TEST_FRAC = 0.2

DEFINITIONS = {
    "shift_random": "seeded permutation of the items; the first floor(0.2 n) are test, the "
    "rest train",
    "shift_temporal": "train = items whose first interaction (earliest log row, any part) is "
    "before the cutoff, test = items first seen at or after it; items absent from the log are "
    "in neither side; cutoff = the split's global cutoff, or for splits without one the global "
    "temporal cutoff (--cutoff, else the timestamp at position floor((1 - test_frac) N) of the "
    "time-sorted log)",
    "shift_popularity": "items ranked by train interaction count ascending (ties: lower item "
    "index first); the first floor(tail_frac n) are test, the rest train",
    "shift_cold": "test = items with at most max_interactions train interactions, train = the rest",
    "shift_none": "train = test = every item (in-sample: pure capacity)",
    "train_interactions": "log rows outside the split's test part (train plus validation); rows "
    "whose item has no embedding are ignored",
    "min_items": f"each side must hold at least {MIN_ITEMS} items",
}


@dataclass(frozen=True)
class ItemShift:
    """Train and test item indices (sorted) of one shift, with what decided them."""

    kind: str
    train: npt.NDArray[np.int64]
    test: npt.NDArray[np.int64]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def n_train(self) -> int:
        return int(self.train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.test.shape[0])

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "n_train": self.n_train, "n_test": self.n_test, **self.details}


def first_seen(
    item_index: npt.NDArray[np.int64], timestamps: npt.NDArray[np.float64], n_items: int
) -> npt.NDArray[np.float64]:
    """Earliest timestamp per item (``inf`` for items absent from the log)."""
    out = np.full(n_items, np.inf)
    known = item_index >= 0
    np.minimum.at(out, item_index[known], np.asarray(timestamps, dtype=np.float64)[known])
    return out


def _check_sizes(shift: ItemShift, hints: dict[str, str]) -> ItemShift:
    """Refuse a side with fewer than MIN_ITEMS items. ``hints``: the fix when only the
    ``train`` side, only the ``test`` side, or ``both`` sides are too small."""
    small = [
        (side, n) for side, n in (("train", shift.n_train), ("test", shift.n_test)) if n < MIN_ITEMS
    ]
    if small:
        side, n = small[0]
        hint = hints["both" if len(small) == 2 else side]
        raise UsageError(
            f"--shift {shift.kind} leaves {n} {side} items (train {shift.n_train}, test "
            f"{shift.n_test}); each side needs at least {MIN_ITEMS}: {hint}"
        )
    return shift


def _hints(train: str, test: str, both: str) -> dict[str, str]:
    return {"train": train, "test": test, "both": both}


#: the fix for a side that is too small, per shift (the other side's fix would shrink it)
_FIXES = {
    "none": _hints("give more items", "give more items", "give more items"),
    "random": _hints(
        "give at least 100 items", "give at least 100 items", "give at least 100 items"
    ),
    "temporal": _hints(
        "give a later --cutoff (without --cutoff: a lower --test-frac)",
        "give an earlier --cutoff (without --cutoff: a higher --test-frac)",
        f"give a log that first sees at least {MIN_ITEMS} items on each side of the cutoff",
    ),
    "popularity": _hints(
        "lower --tail-frac or give more items",
        "raise --tail-frac or give more items",
        f"give at least {2 * MIN_ITEMS} items",
    ),
    "cold": _hints(
        "lower --max-interactions (fewer items count as cold)",
        "raise --max-interactions (more items count as cold)",
        f"give at least {2 * MIN_ITEMS} items",
    ),
}


def random_reference(n_items: int, *, seed: int = 0) -> tuple[ItemShift | None, str | None]:
    """The ``random`` shift as the reference of a probe's gap, or (None, why it cannot be
    formed): unlike a requested shift it is never refused, the gap is left out instead."""
    try:
        return make_item_shift("random", n_items, seed=seed), None
    except UsageError:
        n_test = int(math.floor(RANDOM_TEST_FRAC * n_items))
        return None, (
            f"the random reference split of the {n_items} items would hold {n_test} test items "
            f"(floor({RANDOM_TEST_FRAC:g} n)); each side needs at least {MIN_ITEMS}, so the "
            f"gap needs at least {math.ceil(MIN_ITEMS / RANDOM_TEST_FRAC)} items"
        )


def make_item_shift(
    kind: str,
    n_items: int,
    *,
    seed: int = 0,
    first_seen: npt.NDArray[np.float64] | None = None,
    cutoff: float | None = None,
    cutoff_source: str | None = None,
    train_counts: npt.NDArray[np.int64] | None = None,
    tail_frac: float = 0.2,
    max_interactions: int = 5,
) -> ItemShift:
    """The train / test items of one shift (see the module docstring for the definitions)."""
    everything = np.arange(n_items, dtype=np.int64)
    if kind == "none":
        return _check_sizes(ItemShift("none", everything, everything), _FIXES["none"])
    if kind == "random":
        perm = np.random.default_rng([seed, 101]).permutation(n_items)
        n_test = int(math.floor(RANDOM_TEST_FRAC * n_items))
        shift = ItemShift(
            "random",
            np.sort(perm[n_test:]).astype(np.int64),
            np.sort(perm[:n_test]).astype(np.int64),
            {"test_frac": RANDOM_TEST_FRAC, "seed": seed},
        )
        return _check_sizes(shift, _FIXES["random"])
    if kind == "temporal":
        if first_seen is None or cutoff is None:
            raise UsageError("--shift temporal needs an interaction log with timestamps")
        seen = np.isfinite(first_seen)
        train = np.flatnonzero(seen & (first_seen < cutoff)).astype(np.int64)
        test = np.flatnonzero(seen & (first_seen >= cutoff)).astype(np.int64)
        details = {
            "cutoff": float(cutoff),
            "cutoff_source": cutoff_source,
            "n_items_not_in_log": int((~seen).sum()),
        }
        return _check_sizes(ItemShift("temporal", train, test, details), _FIXES["temporal"])
    if kind in ("popularity", "cold"):
        if train_counts is None:
            raise UsageError(f"--shift {kind} needs an interaction log (train interaction counts)")
        counts = np.asarray(train_counts, dtype=np.int64)
        if kind == "popularity":
            if not 0 < tail_frac < 1 or math.isnan(tail_frac):
                raise UsageError(f"--tail-frac is {tail_frac}: it must lie in (0, 1)")
            order = np.lexsort((everything, counts))
            n_test = int(math.floor(tail_frac * n_items))
            shift = ItemShift(
                "popularity",
                np.sort(order[n_test:]).astype(np.int64),
                np.sort(order[:n_test]).astype(np.int64),
                {
                    "tail_frac": tail_frac,
                    "max_test_count": int(counts[order[n_test - 1]]) if n_test else None,
                },
            )
            return _check_sizes(shift, _FIXES["popularity"])
        if max_interactions < 0:
            raise UsageError(f"--max-interactions is {max_interactions}: it must be >= 0")
        cold = counts <= max_interactions
        shift = ItemShift(
            "cold",
            np.flatnonzero(~cold).astype(np.int64),
            np.flatnonzero(cold).astype(np.int64),
            {"max_interactions": max_interactions},
        )
        return _check_sizes(shift, _FIXES["cold"])
    raise UsageError(f"unknown --shift {kind!r}: choose one of {', '.join(SHIFT_KINDS)}")


def shift_from_log(
    kind: str,
    n_items: int,
    *,
    users: npt.NDArray[np.int64],
    item_index: npt.NDArray[np.int64],
    timestamps: npt.NDArray[np.float64] | None,
    split: Split,
    test_frac: float,
    cutoff: float | None = None,
    tail_frac: float = 0.2,
    max_interactions: int = 5,
) -> ItemShift:
    """A shift decided by the log (``temporal``, ``popularity``, ``cold``) and its split.

    ``item_index`` maps every log row to its item (-1 without embeddings); ``cutoff`` is the
    ``--cutoff`` option, used by the temporal shift when the split has no global cutoff.
    """
    if kind == "temporal":
        if timestamps is None:
            raise UsageError("--shift temporal needs an interaction log with timestamps")
        chosen: float | None = split.cutoff
        if chosen is not None:
            source = f"the {split.kind} split's cutoff"
        else:
            chosen = make_split(
                "temporal", users, timestamps, test_frac=test_frac, cutoff=cutoff
            ).cutoff
            source = (
                f"--cutoff (the {split.kind} split has no global cutoff)"
                if cutoff is not None
                else f"global temporal cutoff at test_frac {test_frac:g} "
                f"(the {split.kind} split has no global cutoff)"
            )
        assert chosen is not None
        return make_item_shift(
            kind,
            n_items,
            first_seen=first_seen(item_index, timestamps, n_items),
            cutoff=chosen,
            cutoff_source=source,
        )
    train_rows = split.part != TEST
    counts = item_counts(np.where(train_rows, item_index, -1), n_items)
    return make_item_shift(
        kind,
        n_items,
        train_counts=counts,
        tail_frac=tail_frac,
        max_interactions=max_interactions,
    )
