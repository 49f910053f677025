"""Train / validation / test splits of an interaction log.

Definitions (fixed; also in docs/definitions.md and every JSON report):

- ``temporal``: one global cutoff. With ``cutoff`` given it is used as is; otherwise it is the
  timestamp of the interaction at position ``floor((1 - test_frac) * N)`` of the log sorted by
  time (0-based, stable). Train = ``timestamp < cutoff``; test = ``timestamp >= cutoff``.
- ``user-temporal``: per user, interactions ordered by (timestamp, log row); the last
  ``max(1, floor(test_frac * n_u))`` are test. Users with fewer than 2 interactions keep them all
  in train (they are never evaluated).
- ``random``: each interaction goes to test with probability ``test_frac`` (seeded).
- ``files``: the user's own train and test files, concatenated train first.

``valid_frac`` carves a validation part out of train, used only to tune fusion:
- temporal / files: train rows with ``timestamp >= valid_cutoff`` where ``valid_cutoff`` is the
  timestamp at position ``floor((1 - valid_frac) * N_train)`` of train sorted by time;
- user-temporal: per user the last ``min(floor(valid_frac * n_train_u), n_train_u - 1)`` train rows;
- random: each train row with probability ``valid_frac`` (seeded, a second draw).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import UsageError

__all__ = ["TRAIN", "VALID", "TEST", "SPLIT_KINDS", "Split", "make_split"]

TRAIN = 0
VALID = 1
TEST = 2
SPLIT_KINDS = ("temporal", "user-temporal", "random", "files")


@dataclass(frozen=True)
class Split:
    """Assignment of every log row to train (0), validation (1) or test (2)."""

    kind: str
    part: npt.NDArray[np.int8]
    cutoff: float | None
    valid_cutoff: float | None
    test_frac: float | None
    valid_frac: float
    seed: int | None
    #: user-temporal: the most train rows (before validation is carved out) any user has
    max_user_train: int | None = field(default=None, compare=False, repr=False)

    @property
    def train(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.part == TRAIN)

    @property
    def valid(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.part == VALID)

    @property
    def test(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.part == TEST)

    @property
    def fit(self) -> npt.NDArray[np.bool_]:
        """Train plus validation: the history a final model is scored from."""
        return np.asarray(self.part != TEST)

    def no_targets_hint(self, phase: str, n_targets: int, n_in_history: int) -> str | None:
        """Why no user has both a history and a target of ``phase`` (``test`` or ``valid``)
        and what to do, where the split itself is the cause; None where it is not.

        ``n_targets``: target rows of the phase among the candidate items; ``n_in_history``:
        how many of those are already in their user's history (and so no targets).
        """
        if phase == "test":
            if self.kind == "files" and n_targets > 0 and n_in_history == n_targets:
                return (
                    f"with --split files every test row ({n_targets} of {n_targets}) is already "
                    "in its user's train history, so none is left to predict (are --train and "
                    "--test the same file?); give --test the held-out interactions, absent "
                    "from --train"
                )
            return None
        n_valid = int(np.count_nonzero(self.part == VALID))
        if n_valid > 0 or self.valid_frac <= 0 or self.kind != "user-temporal":
            return None
        most = self.max_user_train or 0
        if most < 2:
            return (
                "the user-temporal split leaves no user 2 or more train rows, so none can give "
                "one to validation; use --split temporal or --split random, or a log with more "
                "interactions per user"
            )
        need = math.ceil(1000 / most) / 1000  # the smallest 3-decimal fraction with one row
        while math.floor(need * most) < 1:
            need += 0.001
        return (
            f"the user-temporal split gives each user floor({self.valid_frac:g} * its train "
            f"rows) validation rows, which rounds down to 0 for every user here (none has more "
            f"than {most} train rows); raise --valid-frac to at least {need:g}, or use --split "
            "temporal or --split random"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "cutoff": self.cutoff,
            "valid_cutoff": self.valid_cutoff,
            "test_frac": self.test_frac,
            "valid_frac": self.valid_frac,
            "seed": self.seed if self.kind == "random" else None,
            "n_train": int(np.count_nonzero(self.part == TRAIN)),
            "n_valid": int(np.count_nonzero(self.part == VALID)),
            "n_test": int(np.count_nonzero(self.part == TEST)),
        }


def _time(value: float) -> str:
    """A timestamp or cutoff as messages print it: an integer value exactly (``874724710``,
    not ``%g``'s ``8.74725e+08``), any other value with every digit it holds (``repr``)."""
    value = float(value)
    if math.isfinite(value) and value == math.floor(value):
        return str(int(value))
    return repr(value)


def _check_frac(name: str, value: float, *, allow_zero: bool) -> None:
    lo_ok = value >= 0 if allow_zero else value > 0
    if not (lo_ok and value < 1) or math.isnan(value):
        bound = "[0, 1)" if allow_zero else "(0, 1)"
        raise UsageError(f"--{name.replace('_', '-')} is {value}: it must lie in {bound}")


def _position_cutoff(sorted_ts: npt.NDArray[np.float64], frac_kept: float) -> float:
    n = sorted_ts.shape[0]
    pos = min(int(math.floor(frac_kept * n)), n - 1)
    return float(sorted_ts[pos])


def _temporal_valid(
    part: npt.NDArray[np.int8], timestamps: npt.NDArray[np.float64], valid_frac: float
) -> float | None:
    if valid_frac <= 0:
        return None
    train_idx = np.flatnonzero(part == TRAIN)
    if train_idx.size == 0:
        return None
    vcut = _position_cutoff(np.sort(timestamps[train_idx], kind="stable"), 1.0 - valid_frac)
    part[train_idx[timestamps[train_idx] >= vcut]] = VALID
    return vcut


def make_split(
    kind: str,
    users: npt.NDArray[np.int64],
    timestamps: npt.NDArray[np.float64],
    *,
    test_frac: float = 0.2,
    cutoff: float | None = None,
    valid_frac: float = 0.0,
    seed: int = 0,
    n_train_rows: int | None = None,
) -> Split:
    """Split a log given as parallel arrays of user codes and timestamps.

    For ``kind="files"`` the log is the train file followed by the test file and
    ``n_train_rows`` says where the test file starts.
    """
    n = int(users.shape[0])
    if n == 0:
        raise UsageError("the interaction log is empty: nothing to split; give a log with rows")
    _check_frac("valid_frac", valid_frac, allow_zero=True)
    ts = np.asarray(timestamps, dtype=np.float64)
    part = np.full(n, TRAIN, dtype=np.int8)
    vcut: float | None = None
    max_train: int | None = None
    frac: float | None = test_frac
    if kind == "temporal":
        given = cutoff is not None
        if not given:
            _check_frac("test_frac", test_frac, allow_zero=False)
        if ts.min() == ts.max():
            raise UsageError(
                f"all timestamps are equal ({_time(ts[0])}): a temporal split needs at least two "
                "distinct times; use --split user-temporal or --split random, or a log with "
                "real times"
            )
        if cutoff is None:
            cutoff = _position_cutoff(np.sort(ts, kind="stable"), 1.0 - test_frac)
        else:
            frac = None
        part[ts >= cutoff] = TEST
        n_test = int(np.count_nonzero(part == TEST))
        if n_test == 0 or n_test == n:
            side = "test" if n_test == 0 else "train"
            if not given:  # the cutoff came from --test-frac: the earliest time is tied
                n_first = int(np.count_nonzero(ts == ts.min()))
                raise UsageError(
                    f"the temporal split's cutoff {_time(cutoff)} (the time at fraction "
                    f"{1.0 - test_frac:g} of the log for --test-frac {test_frac:g}) leaves "
                    f"{side} empty: {n_first} of the {n} interactions share the earliest time "
                    f"{_time(ts.min())}; lower --test-frac, give --cutoff, or use --split "
                    "user-temporal"
                )
            raise UsageError(
                f"--cutoff {_time(cutoff)} leaves {side} empty (the log's timestamps span "
                f"{_time(ts.min())} .. {_time(ts.max())}); choose a --cutoff inside that range"
            )
        vcut = _temporal_valid(part, ts, valid_frac)
    elif kind == "user-temporal":
        _check_frac("test_frac", test_frac, allow_zero=False)
        rows = np.arange(n)
        order = np.lexsort((rows, ts, users))
        su = users[order]
        starts = np.flatnonzero(np.r_[True, su[1:] != su[:-1]])
        counts = np.diff(np.r_[starts, n])
        rank = rows - np.repeat(starts, counts)  # rank within user, in sorted order
        n_u = np.repeat(counts, counts)
        n_test_u = np.where(n_u >= 2, np.maximum(1, np.floor(test_frac * n_u)), 0).astype(np.int64)
        n_train_u = n_u - n_test_u
        n_valid_u = np.minimum(np.floor(valid_frac * n_train_u), np.maximum(n_train_u - 1, 0))
        sorted_part = np.full(n, TRAIN, dtype=np.int8)
        sorted_part[rank >= n_train_u] = TEST
        sorted_part[(rank >= n_train_u - n_valid_u) & (rank < n_train_u)] = VALID
        part[order] = sorted_part
        max_train = int(n_train_u.max())
        cutoff = None
        if not np.any(part == TEST):
            raise UsageError("user-temporal split: no user has 2 or more interactions, so no test")
    elif kind == "random":
        _check_frac("test_frac", test_frac, allow_zero=False)
        rng = np.random.default_rng(seed)
        draw_test = rng.random(n)
        draw_valid = rng.random(n)
        part[draw_test < test_frac] = TEST
        part[(part == TRAIN) & (draw_valid < valid_frac)] = VALID
        cutoff = None
    elif kind == "files":
        if n_train_rows is None or not 0 < n_train_rows < n:
            raise UsageError("--split files needs both --train and --test logs, each non-empty")
        part[n_train_rows:] = TEST
        cutoff = None
        frac = None
        vcut = _temporal_valid(part, ts, valid_frac)
    else:
        raise UsageError(f"unknown split {kind!r}: choose one of {', '.join(SPLIT_KINDS)}")
    if not np.any(part == TRAIN):
        raise UsageError(f"the {kind} split leaves train empty; lower --test-frac / --valid-frac")
    return Split(
        kind=kind,
        part=part,
        cutoff=None if cutoff is None else float(cutoff),
        valid_cutoff=vcut,
        test_frac=frac,
        valid_frac=valid_frac,
        seed=seed,
        max_user_train=max_train,
    )
