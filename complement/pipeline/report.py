"""``complement report``: every diagnostic on one context, assembled into one JSON document.

Layout of ``complement.report/1`` (keys in this order)::

    schema, complement_version,
    sections      {name: "ok" | "not run"}              every section, in document order
    overlap, hits, oracle, probe, structure
                  each the single command's --json document without its own ``provenance``
                  (hoisted into the report's), or {"status": "not run", "reason": "..."}
    figures       small data the page's plots need beyond the sections (per-item overlap
                  histogram at the headline k)
    provenance    complement version, resolved config, sha256 + size + shape of every input
                  file, n_items, item_universe_sha256, views, split, seeds, device/backend
    timings       wall seconds per section (the only non-deterministic part; last key);
                  overlap, structure and probe run on a thread beside oracle and hits, so
                  seconds overlap

Sections are reported in RUN_ORDER. ``overlap``, ``structure`` and then ``probe`` (``SIDE``) run
on a second thread beside ``oracle`` and then ``hits`` (which reuses the oracle's rankings);
neither thread needs the other's results. The probe mostly waits for its MLP worker, and the
second core keeps working once the worker is done (their small linear algebra runs on one BLAS
thread, as everywhere). On the CPU :func:`run_report` starts that worker before the inputs
load. The split balances the two threads on the fixture (the oracle is the longest section):
with ``overlap`` on the oracle's thread instead, the report took 1.05 times as long. Each
section's result depends only on its inputs, never on the thread or what runs beside it, so the
document is the same either way; the sections' transient memory (the retrieval's scratch) adds
up while they run together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement._version import __version__
from complement.errors import ComplementError, UsageError
from complement.headline import headline_k
from complement.io.jsonio import document
from complement.pipeline.context import Context
from complement.pipeline.hits import run_hits
from complement.pipeline.mlp_worker import Worker, load_beside
from complement.pipeline.oracle import run_oracle
from complement.pipeline.overlap import run_overlap
from complement.pipeline.probe import REPORT_CAPACITIES, plan_probe, run_probe
from complement.pipeline.provenance import report_provenance
from complement.pipeline.section import Section
from complement.pipeline.structure import run_structure

__all__ = [
    "REPORT_SCHEMA",
    "RUN_ORDER",
    "SECTION_NAMES",
    "ReportRun",
    "build_report",
    "overlap_histogram",
    "run_report",
]

REPORT_SCHEMA = "complement.report/1"
#: sections in the order they appear in the document
SECTION_NAMES = ("overlap", "hits", "oracle", "probe", "structure")
#: sections in the order they are reported: oracle before hits, so hits reuses the oracle's
#: rankings
RUN_ORDER = ("overlap", "oracle", "hits", "probe", "structure")
#: sections run in this order on a second thread, beside the others
SIDE = ("overlap", "structure", "probe")

#: the runners of every section but the probe, whose runner build_report makes with its plan
_RUNNERS: dict[str, Callable[[Context], Section]] = {
    "overlap": run_overlap,
    "oracle": run_oracle,
    "hits": run_hits,
    "structure": run_structure,
}


@dataclass(frozen=True)
class ReportRun:
    """A finished report: the JSON document and every section (None: not run)."""

    doc: dict[str, Any]
    sections: dict[str, Section | None]

    def to_dict(self) -> dict[str, Any]:
        """The ``complement.report/1`` document."""
        return self.doc


def overlap_histogram(per_item: npt.NDArray[np.float64], k: int, chance: float) -> dict[str, Any]:
    """Counts of query items with overlap@k = j/k for j = 0..k (for the report's figure)."""
    hits = np.rint(np.asarray(per_item, dtype=np.float64) * k).astype(np.int64)
    counts = np.bincount(hits, minlength=k + 1)[: k + 1]
    return {
        "k": int(k),
        "counts": counts.tolist(),
        "chance": float(chance),
        "mean": float(np.mean(per_item)) if per_item.size else None,
    }


def _figures(sections: Mapping[str, Section | None]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    overlap = sections.get("overlap")
    if overlap is not None:
        per_item = overlap.result.per_item
        k = headline_k(per_item)
        assert k is not None
        figures["overlap_distribution"] = overlap_histogram(
            per_item[k], k, overlap.result.per_k[k].chance
        )
    return figures


def _body(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key != "provenance"}


def _run_one(
    ctx: Context, name: str, runner: Callable[[Context], Section]
) -> tuple[dict[str, Any], Section | None, str, float]:
    """One section: its body, the section (None: refused), its status line and its seconds."""
    t0 = time.perf_counter()
    try:
        section = runner(ctx)
        body, status = _body(section.doc), "done"
    except ComplementError as exc:
        # one section's refusal (e.g. too few items for a shift) must not lose the others
        reason = " ".join(str(exc).split())
        body, section, status = {"status": "not run", "reason": reason}, None, f"not run: {exc}"
    return body, section, status, time.perf_counter() - t0


_Done = tuple[dict[str, Any], Section | None, str, float]


class _Side:
    """The SIDE sections, run in order on a daemon thread; :meth:`result` waits for one.

    A daemon thread, not an executor's: an interrupted report (Ctrl-C, SIGTERM, an error of a
    main-thread section) returns at once instead of waiting for the side sections, which end
    with the process (the command line ends it at once, without tearing the interpreter down
    beside a section in native code) or, in a Python session, on their own (the probe's MLP
    worker is stopped, and its fits refuse to run in the process instead)."""

    def __init__(self, ctx: Context, runners: Mapping[str, Callable[[Context], Section]]) -> None:
        self.futures: dict[str, Future[_Done]] = {n: Future() for n in SIDE if n in runners}
        threading.Thread(
            target=self._run, args=(ctx, runners), name="complement-side", daemon=True
        ).start()

    def _run(self, ctx: Context, runners: Mapping[str, Callable[[Context], Section]]) -> None:
        for name, future in self.futures.items():
            if not future.set_running_or_notify_cancel():
                continue  # abandoned before it started
            try:
                future.set_result(_run_one(ctx, name, runners[name]))
            except BaseException as exc:  # raised where the section's result is wanted
                future.set_exception(exc)

    def result(self, name: str) -> _Done:
        return self.futures[name].result()

    def abandon(self) -> None:
        """Cancel the side sections not yet started (the one running ends on its own)."""
        for future in self.futures.values():
            future.cancel()


def _run_sections(
    ctx: Context,
    runners: Mapping[str, Callable[[Context], Section]],
    bodies: dict[str, dict[str, Any]],
    sections: dict[str, Section | None],
    timings: dict[str, float],
    notify: Callable[[str], None] | None,
) -> None:
    """Run every section; a section that refuses is recorded as not run. ``notify`` hears of
    them in RUN_ORDER, each as soon as it and every section before it are done.

    The SIDE sections run one after the other on a second thread from the start (:class:`_Side`),
    the others on this one; an error of a side section is raised when this thread reaches it in
    RUN_ORDER (between its own sections, or at the end), and an error or interruption here
    returns without waiting for the side."""
    side = _Side(ctx, runners)
    mine: dict[str, _Done] = {}
    told = 0  # sections of RUN_ORDER recorded (and notified) so far

    def record(wait: bool) -> None:
        """Record the sections of RUN_ORDER that are done, in order, up to the first that is not
        (``wait``: wait for each side section instead)."""
        nonlocal told
        while told < len(RUN_ORDER):
            name = RUN_ORDER[told]
            if name in side.futures:
                if not (wait or side.futures[name].done()):
                    return
                done = side.result(name)
            elif name in mine:
                done = mine[name]
            else:
                return
            bodies[name], sections[name], status, timings[name] = done
            told += 1
            if notify is not None:
                notify(f"[{told}/{len(RUN_ORDER)}] {name}: {status} ({timings[name]:.1f} s)")

    try:
        for name in RUN_ORDER:
            if name not in side.futures:
                record(wait=False)
                mine[name] = _run_one(ctx, name, runners[name])
        record(wait=True)
    except BaseException:
        side.abandon()
        raise


def run_report(
    load: Callable[[], Context], device: str, *, notify: bool = True
) -> tuple[Context, ReportRun]:
    """The context ``load`` returns and the report on it (``device``: as resolved for it).

    On the CPU the probe's MLP worker starts first, so that torch imports while the inputs
    load (see :mod:`complement.pipeline.mlp_worker`). ``notify``: pass the context's
    ``notify`` to :func:`build_report`.
    """
    ctx, worker = load_beside(load, REPORT_CAPACITIES, device)
    return ctx, build_report(ctx, ctx.notify if notify else None, worker=worker)


def build_report(
    ctx: Context, notify: Callable[[str], None] | None = None, *, worker: Worker | None = None
) -> ReportRun:
    """Run every section on ``ctx``; a section that cannot run is recorded as not run.

    ``notify`` receives one line per section as it finishes (the CLI prints them);
    ``worker``: an MLP worker already started for the probe (used or closed).
    """
    settings = ctx.settings
    n_items = ctx.views.n_items
    too_large = [k for k in settings["k"] if k >= n_items]
    if too_large:  # every k-based section would refuse: say it once, before any work
        if worker is not None:
            worker.close()
        raise UsageError(
            f"--k {too_large[0]} is not smaller than the number of items ({n_items}); lower it"
        )
    timings: dict[str, float] = {"load": ctx.load_seconds}
    start = time.perf_counter()
    bodies: dict[str, dict[str, Any]] = {}
    sections: dict[str, Section | None] = {}
    if ctx.backend is not None:  # a cluster is joined here, not by the side thread
        try:
            ctx.backend.join()
        except BaseException:
            if worker is not None:
                worker.close()
            raise
    # the probe's MLPs start training in a worker process now, beside the sections before it
    with closing(plan_probe(ctx, REPORT_CAPACITIES, worker)) as probe_plan:
        runners = {**_RUNNERS, "probe": lambda ctx: run_probe(ctx, REPORT_CAPACITIES, probe_plan)}
        _run_sections(ctx, runners, bodies, sections, timings, notify)
    timings["total"] = timings["load"] + time.perf_counter() - start
    if all(section is None for section in sections.values()):
        reasons = "; ".join(f"{name}: {bodies[name]['reason']}" for name in RUN_ORDER)
        raise UsageError(f"no section of the report could run ({reasons})")
    status_of = {
        name: ("not run" if sections[name] is None else "ok")
        for name in SECTION_NAMES
        if name in bodies
    }
    body: dict[str, Any] = {"sections": status_of}
    for name in SECTION_NAMES:
        body[name] = bodies[name]
    body["figures"] = _figures(sections)
    doc = document(
        REPORT_SCHEMA,
        body,
        provenance={"complement_version": __version__, **report_provenance(ctx)},
        timings={k: round(float(v), 3) for k, v in timings.items()},
    )
    return ReportRun(doc, sections)
