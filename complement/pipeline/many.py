"""Everything ``compare`` needs, loaded once: N named views joined on their common items, the
log, the split and its test phase.

The views come from the ``view`` option (``--view NAME=PATH[:IDS]``, repeatable, or a
``[views]`` table of complement.toml). The Python API may give arrays instead of paths: it
puts them in ``settings.extra["view_inputs"]`` (name -> (embeddings, ids)) and leaves a label
in the option's path, so the settings (and the provenance) stay plain text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.config import Settings
from complement.core.evaluation import EvalData, prepare_eval, split_summary
from complement.core.segments import Segments
from complement.core.splits import Split
from complement.errors import InputError, UsageError
from complement.io import Interactions
from complement.io.coverage import log_coverage
from complement.io.fingerprint import input_files
from complement.io.loaders import embeddings_from
from complement.io.many import ManyViews, join_many
from complement.pipeline.context import (
    ProgressFactory,
    load_log,
    load_segments,
    log_given,
    no_progress,
    split_of,
)
from complement.retrieval import Backend

__all__ = ["ManyContext", "load_many", "view_inputs", "view_sources"]

NO_VIEWS = (
    "compare needs at least two views: repeat --view NAME=PATH (or NAME=PATH:IDS), or list "
    'them in a [views] table of complement.toml (sem = "sem.npy", cf = {path = "cf.npy", '
    'ids = "ids.npy"}) or as view = ["sem=sem.npy", "cf=cf.npy:ids.npy"]'
)


@dataclass(eq=False)
class ManyContext:
    """The loaded inputs of one ``compare`` run."""

    settings: Settings
    views: ManyViews
    backend: Backend | None = None
    log: Interactions | None = None
    item_index: npt.NDArray[np.int64] | None = None
    coverage: dict[str, Any] | None = None
    split: Split | None = None
    progress: ProgressFactory = field(default=no_progress)
    notify: Callable[[str], None] = field(default=lambda _line: None)
    load_seconds: float = 0.0

    @property
    def has_log(self) -> bool:
        return self.log is not None

    def require_backend(self) -> Backend:
        if self.backend is None:  # a programming error: the entry point resolves the device
            raise RuntimeError("compare retrieves: load_many needs a backend")
        return self.backend

    @cached_property
    def segments(self) -> Segments | None:
        """The segments of ``--segment-col`` (None when not given); read once."""
        return load_segments(
            self.settings, self.views.ids, None if self.log is None else self.log.user_ids
        )

    @cached_property
    def test_phase(self) -> tuple[EvalData, dict[str, Any]]:
        """The split's test phase (history = train + validation) and its ``split`` summary."""
        if self.log is None or self.item_index is None or self.split is None:
            raise InputError("compare's user-level part needs an interaction log and a split")
        ev = prepare_eval(
            self.log.users,
            self.item_index,
            self.split.part,
            self.views.n_items,
            n_users=int(self.log.user_ids.shape[0]),
            phase="test",
            split=self.split,
        )
        return ev, split_summary(self.split, ev)


def view_sources(settings: Settings) -> list[tuple[str, Any, Any]]:
    """(name, embeddings path or in-memory input, ids path or in-memory input or None)."""
    specs = settings.get("view") or ()
    given = settings.extra.get("view_inputs", {}) if settings.extra else {}
    out: list[tuple[str, Any, Any]] = []
    for name, path, ids in specs:
        value, ids_value = given.get(name, (path, ids))
        out.append((name, value, ids_value))
    return out


def view_inputs(settings: Settings) -> dict[str, Any]:
    """The provenance's record (path, sha256, bytes, shape) of every view file and ids file."""
    paths: dict[str, Any] = {}
    for name, value, ids in view_sources(settings):
        paths[f"view.{name}"] = value
        if ids is not None:
            paths[f"view.{name}.ids"] = ids
    return input_files(paths)


def load_views(settings: Settings) -> ManyViews:
    """The named views, joined on the ids they all have."""
    sources = view_sources(settings)
    if len(sources) < 2:
        raise UsageError(f"{'no view' if not sources else '1 view'} given; " + NO_VIEWS)
    embs = [embeddings_from(value, ids, role=f"view {name}") for name, value, ids in sources]
    return join_many(
        embs,
        [name for name, _, _ in sources],
        metric=settings.get("metric", "cosine"),
        drop_invalid=bool(settings.get("drop_invalid")),
        positional_ids=bool(settings.get("positional_ids")),
        min_shared=settings.get("min_shared", 0.5),
    )


def load_many(
    settings: Settings,
    backend: Backend | None = None,
    *,
    progress: ProgressFactory = no_progress,
    notify: Callable[[str], None] | None = None,
) -> ManyContext:
    """The views always; the log and its split when a log is configured."""
    start = time.perf_counter()
    anchor = settings.get("anchor")
    names = [name for name, _, _ in view_sources(settings)]
    if anchor is not None and anchor not in names and len(names) >= 2:
        raise UsageError(
            f"--anchor {anchor!r} is not one of the views ({', '.join(names)}); name one of them"
        )
    views = load_views(settings)
    ctx = ManyContext(settings=settings, views=views, backend=backend, progress=progress)
    if notify is not None:
        ctx.notify = notify
    need_split = log_given(settings)
    log, n_train_rows = load_log(settings, need_time=need_split)
    if log is not None:
        ctx.log = log
        ctx.item_index, ctx.coverage = log_coverage(
            log,
            views,
            settings.get("max_missing"),
            positional_ids=bool(settings.get("positional_ids")),
            ids_hint="--view NAME=PATH:IDS",
        )
        ctx.split = split_of(settings, log, n_train_rows)
    _ = ctx.segments  # a bad --segment-col is refused before any work
    ctx.load_seconds = time.perf_counter() - start
    return ctx
