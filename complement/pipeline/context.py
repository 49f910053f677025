"""Everything one run needs, loaded once: the joined views, the log, the split, user vectors.

:func:`load_context` reads the inputs named in :class:`~complement.config.Settings` through
:mod:`complement.io` (paths, or in-memory objects from the Python API) into a
:class:`Context`. What only some diagnostics need (the evaluation data of the split, user
vectors, titles, popularity groups) is computed on first use and kept, so that
``complement report`` computes it once for every section.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.config import Settings
from complement.core import diversity
from complement.core.evaluation import EvalData, prepare_eval, split_summary
from complement.core.popularity import item_counts, popularity_groups
from complement.core.ranking import unit_rows
from complement.core.segments import ACTIVITY, Segments, activity_segments
from complement.core.splits import Split, make_split
from complement.errors import ComplementError, InputError
from complement.io import Interactions, Views, join_views, load_items
from complement.io.coverage import log_coverage
from complement.io.embeddings import Embeddings
from complement.io.items import ItemTitles
from complement.io.loaders import embeddings_from, interactions_from, split_files_from
from complement.io.segments import load_segment_labels, segment_source
from complement.io.users import UserVectors, align_user_vectors
from complement.retrieval import Backend

__all__ = [
    "Context",
    "Evaluation",
    "ProgressFactory",
    "load_context",
    "load_log",
    "load_segments",
    "log_given",
    "no_progress",
    "read_views",
    "split_of",
]

ProgressFn = Callable[[int, int], None]
ProgressFactory = Callable[[str], AbstractContextManager[ProgressFn]]


@contextmanager
def no_progress(_description: str) -> Iterator[ProgressFn]:
    """The default progress reporter: silent."""
    yield lambda _done, _total: None


NO_LOG = (
    "this command needs an interaction log: pass --interactions LOG or set "
    "[data] interactions in complement.toml (or --split files --train A --test B)"
)


@dataclass(frozen=True)
class Evaluation:
    """The split's test phase (and validation phase, when it has one) with user vectors."""

    test: EvalData
    valid: EvalData | None
    #: why there is no validation phase (None when there is one)
    valid_error: str | None
    sem_users: npt.NDArray[np.float32] | None
    cf_users: npt.NDArray[np.float32] | None
    #: the ``split`` part of the JSON documents
    split: dict[str, Any]


@dataclass(eq=False)
class Context:
    """The loaded inputs of one run. ``item_index[r]`` is log row r's item index (or -1)."""

    settings: Settings
    views: Views
    backend: Backend | None = None
    log: Interactions | None = None
    item_index: npt.NDArray[np.int64] | None = None
    coverage: dict[str, Any] | None = None
    split: Split | None = None
    progress: ProgressFactory = field(default=no_progress)
    #: receives one-line notes on what is being done (the CLI prints them unless --quiet)
    notify: Callable[[str], None] = field(default=lambda _line: None)
    #: wall seconds spent loading (the report's ``timings.load``)
    load_seconds: float = 0.0
    #: per-view ranked lists of the split's test users, kept by the oracle for hits to reuse
    view_lists: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None
    #: intra-list diversities measured in this run (hits reuses the oracle's)
    diversity_memo: diversity.DiversityMemo = field(default_factory=diversity.DiversityMemo)

    @property
    def has_log(self) -> bool:
        return self.log is not None

    def require_log(self) -> tuple[Interactions, npt.NDArray[np.int64]]:
        if self.log is None or self.item_index is None:
            raise InputError(NO_LOG)
        return self.log, self.item_index

    def require_split(self) -> Split:
        if self.split is None:
            self.require_log()
            raise InputError("no split was made; the command must ask load_context for one")
        return self.split

    def require_backend(self) -> Backend:
        if self.backend is None:  # a programming error: the entry point resolves the device
            raise RuntimeError("this diagnostic retrieves: load_context needs a backend")
        return self.backend

    # --- computed on first use ----------------------------------------------------------

    def _user_vectors(self, view: str) -> UserVectors | None:
        value = self.settings.get(f"{view}_users")
        if value is None:
            return None
        log, _ = self.require_log()
        role = "semantic users" if view == "sem" else "collaborative users"
        emb = embeddings_from(
            value,
            self.settings.get(f"{view}_users_ids"),
            role=role,
            vector_cols=self.settings.get("vector_cols"),
        )
        items = self.views.sem if view == "sem" else self.views.cf
        return align_user_vectors(
            emb,
            log.user_ids,
            item_dim=int(items.shape[1]),
            item_path=str(self.settings.get("semantic" if view == "sem" else "collaborative")),
            option=view,
            max_missing=self.settings.get("max_missing"),
            positional_ids=bool(self.settings.get("positional_ids")),
        )

    @cached_property
    def sem_users(self) -> UserVectors | None:
        """Semantic user embeddings aligned to the log's users (None when not given)."""
        return self._user_vectors("sem")

    @cached_property
    def cf_users(self) -> UserVectors | None:
        """Collaborative user embeddings aligned to the log's users (None when not given)."""
        return self._user_vectors("cf")

    def users_of(self, view: str) -> UserVectors | None:
        return self.sem_users if view == "sem" else self.cf_users

    @cached_property
    def user_ok(self) -> npt.NDArray[np.bool_] | None:
        """Users that have a vector in every view whose user vectors were given."""
        ok: npt.NDArray[np.bool_] | None = None
        for loaded in (self.sem_users, self.cf_users):
            if loaded is not None:
                ok = loaded.have if ok is None else ok & loaded.have
        return ok

    @cached_property
    def evaluation(self) -> Evaluation:
        """Test (and validation) phases of the split, for hits, oracle and align."""
        log, index = self.require_log()
        split = self.require_split()
        sem_u, cf_u = self.sem_users, self.cf_users
        common: dict[str, Any] = {
            "n_items": self.views.n_items,
            "n_users": int(log.user_ids.shape[0]),
            "user_ok": self.user_ok,
        }
        common["split"] = split
        test = prepare_eval(log.users, index, split.part, phase="test", **common)
        valid: EvalData | None = None
        valid_error: str | None = None
        try:
            valid = prepare_eval(log.users, index, split.part, phase="valid", **common)
        except ComplementError as exc:  # no usable validation part: hits can still run
            valid_error = " ".join(str(exc).split())
        return Evaluation(
            test=test,
            valid=valid,
            valid_error=valid_error,
            sem_users=None if sem_u is None else sem_u.vectors,
            cf_users=None if cf_u is None else cf_u.vectors,
            split=split_summary(split, test),
        )

    @cached_property
    def item_meta(self) -> ItemTitles | None:
        """The item metadata of ``--items`` (None when not given)."""
        value = self.settings.get("items")
        if value is None:
            return None
        return load_items(
            value, item_col=self.settings["item_col"], title_col=self.settings["title_col"]
        )

    @cached_property
    def titles(self) -> list[str | None] | None:
        """Titles of the view items in index order (None without metadata)."""
        meta = self.item_meta
        return None if meta is None else meta.lookup(self.views.ids)

    @cached_property
    def segments(self) -> Segments | None:
        """The segments of ``--segment-col`` (None when not given); read once."""
        return load_segments(
            self.settings, self.views.ids, None if self.log is None else self.log.user_ids
        )

    @cached_property
    def effective_ranks(self) -> dict[str, float]:
        """Each view's effective rank, computed once per run (hits, oracle and align share it)."""
        return {
            "semantic": diversity.effective_rank(self.views.sem),
            "collaborative": diversity.effective_rank(self.views.cf),
        }

    @cached_property
    def _unit_views(self) -> dict[str, npt.NDArray[np.float32]]:
        return {}

    def unit_view(self, view: str) -> npt.NDArray[np.float32]:
        """A view's L2-normalised rows (``semantic`` / ``collaborative``), made once per run."""
        if view not in self._unit_views:
            matrix = self.views.sem if view == "semantic" else self.views.cf
            self._unit_views[view] = unit_rows(matrix)
        return self._unit_views[view]

    @cached_property
    def item_groups(self) -> npt.NDArray[np.int8] | None:
        """Popularity group of every item by its log count (None without a log)."""
        if self.item_index is None:
            return None
        return popularity_groups(item_counts(self.item_index, self.views.n_items))


def load_segments(
    settings: Settings,
    item_ids: npt.NDArray[np.str_],
    user_ids: npt.NDArray[np.str_] | None,
) -> Segments | None:
    """The ``--segment-col`` segments: item indices (an ``--items`` column), log user codes
    (a ``--users`` column; needs the log), or the built-in ``activity``; None when not given."""
    column = settings.get("segment_col")
    if column is None:
        return None
    source = segment_source(column, settings.get("items"), settings.get("users"))
    if source != "items" and user_ids is None:
        what = "the users' activity" if source == ACTIVITY else "a column of --users"
        raise InputError(
            f"--segment-col {column!r} is {what}: user segments need an interaction log "
            "(--interactions); pass one, or segment by a column of --items"
        )
    if source == ACTIVITY:
        return activity_segments()
    keys = item_ids if source == "items" else user_ids
    assert keys is not None
    labels = load_segment_labels(
        settings[source],
        source,
        column=column,
        key_col=settings["item_col" if source == "items" else "user_col"],
        keys=keys,
    )
    return Segments(
        column=column,
        source=source,
        names=labels.names,
        members=labels.members,
        n_unassigned=labels.n_unassigned,
    )


def _missing_views(settings: Settings) -> None:
    sem, cf = settings.get("semantic"), settings.get("collaborative")
    if sem is None or cf is None:
        missing = "SEM" if sem is None else "CF"
        raise InputError(
            f"no {missing} embeddings given: pass SEM and CF paths, or set [data] semantic and "
            "collaborative in complement.toml (or --config)"
        )


def read_views(settings: Settings) -> tuple[Embeddings, Embeddings]:
    """The two item views as read, before the join."""
    _missing_views(settings)
    sem, cf = (
        embeddings_from(
            settings[view],
            settings.get(f"{short}_ids"),
            role=view,
            key=settings.get(f"{short}_key"),
            vector_cols=settings.get("vector_cols"),
        )
        for view, short in (("semantic", "sem"), ("collaborative", "cf"))
    )
    return sem, cf


def load_views(settings: Settings) -> Views:
    """The two item views, joined on their ids."""
    sem, cf = read_views(settings)
    return join_views(
        sem,
        cf,
        metric=settings.get("metric", "cosine"),
        drop_invalid=bool(settings.get("drop_invalid")),
        positional_ids=bool(settings.get("positional_ids")),
        min_shared=settings.get("min_shared", 0.5),
    )


def log_given(settings: Settings) -> bool:
    """Whether the settings name an interaction log (one file, or --split files)."""
    return settings.get("interactions") is not None or settings.get("split") == "files"


def load_log(settings: Settings, need_time: bool) -> tuple[Interactions | None, int | None]:
    """The settings' interaction log (one file, or --split files) and, for split files, the
    number of train rows; (None, None) without a log."""
    if not log_given(settings):
        return None, None
    kwargs: dict[str, Any] = {
        "user_col": settings["user_col"],
        "item_col": settings["item_col"],
        "time_col": settings["time_col"] if need_time else None,
    }
    if settings.get("split") == "files":
        train, test = settings.get("train"), settings.get("test")
        if train is None or test is None:
            raise InputError(
                "--split files needs --train TRAIN_LOG and --test TEST_LOG "
                "(or [data] train and test in complement.toml)"
            )
        return split_files_from(train, test, **kwargs)
    return interactions_from(settings["interactions"], **kwargs), None


def split_of(settings: Settings, log: Interactions, n_train_rows: int | None) -> Split:
    """The split the settings ask for, of a log read with its timestamps."""
    if log.timestamps is None:  # pragma: no cover - the callers read the time column
        raise InputError(f"interaction log {log.path}: timestamps are needed for a split")
    return make_split(
        settings["split"],
        log.users,
        log.timestamps,
        test_frac=settings["test_frac"],
        cutoff=settings.get("cutoff"),
        valid_frac=settings.get("valid_frac", 0.0) or 0.0,
        seed=settings["seed"],
        n_train_rows=n_train_rows,
    )


def load_context(
    settings: Settings,
    backend: Backend | None = None,
    *,
    need_log: bool = False,
    need_split: bool = False,
    progress: ProgressFactory = no_progress,
    notify: Callable[[str], None] | None = None,
) -> Context:
    """Views always; the log when configured (required if ``need_log``); the split if asked.

    A log is read with its timestamps when a split is asked for or the command takes a split.
    """
    start = time.perf_counter()
    views = load_views(settings)
    log, n_train_rows = load_log(settings, need_time=need_split or "split" in settings.values)
    ctx = Context(settings=settings, views=views, backend=backend, progress=progress)
    if notify is not None:
        ctx.notify = notify
    if log is None:
        if need_log or need_split:
            ctx.require_log()
        _ = ctx.segments  # a bad --segment-col is refused before any work
        ctx.load_seconds = time.perf_counter() - start
        return ctx
    ctx.log = log
    positional = bool(settings.get("positional_ids"))
    ctx.item_index, ctx.coverage = log_coverage(
        log, views, settings.get("max_missing"), positional_ids=positional
    )
    if need_split:
        ctx.split = split_of(settings, log, n_train_rows)
    _ = ctx.segments
    ctx.load_seconds = time.perf_counter() - start
    return ctx
