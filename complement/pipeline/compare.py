"""Runner of ``compare``: N named views, pairwise agreement and what each view adds.

Layout of ``complement.compare/1`` (keys in this order)::

    schema, complement_version,
    views         the view names, in the order given
    anchor        the --anchor view, or null
    n_items, n_queries, metric, seed, sample
    pairs         {a: {b: {k: {"<k>": {overlap, jaccard, overlap_median, zero_fraction,
                  chance, ci95}}, cka_linear, cka_debiased}}} for every pair, a before b
    user_level    "ok", or {"status": "not run", "reason": ...} without a log
    n_users, n_targets, scoring, n_boot           (with a log)
    k             {"<K>": {recall, ndcg, hits, unique_hits, unique_recall, oracle,
                  best_single, gain, greedy, pairs, anchor}}       (with a log)
    split, definitions, join (the joined items, dims, paths, left-out and dropped counts),
    interactions (log coverage),
    diversity     {view, n_items, effective_rank: {view}, k: {"<K>": {coverage: {view},
                  intra_list_diversity: {view}}}} (k: with a log)
    segments      with --segment-col: the user-level "k" table per segment
    pair_segments with --segment-col: per item segment, every pair's item-level overlap@k
                  table ({column, source, minimum, unit: "items", n_unassigned, by_segment:
                  {label: {n_items, pairs: {a: {b: {k: {"<k>": {overlap, jaccard,
                  overlap_median, zero_fraction, ci95}}}}}} or {n_items, too_small}}});
                  user segments: {column, source, status: "not applicable", reason}
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from complement.core import compare as compare_core
from complement.core import diversity, evaluation
from complement.core import segments as segments_core
from complement.core.ranking import unit_rows
from complement.pipeline.many import ManyContext, view_inputs
from complement.pipeline.provenance import provenance
from complement.pipeline.section import Section, make_section
from complement.pipeline.segments import (
    compare_pair_segments,
    compare_segments,
    diversity_part,
    diversity_view,
    segments_part,
)
from complement.retrieval import Backend

__all__ = ["CompareResult", "compare_provenance", "run_compare"]

NO_LOG = (
    "no interaction log (the user-level part needs one): set [data] interactions in "
    "complement.toml or pass --interactions"
)


@dataclass(frozen=True)
class CompareResult:
    items: compare_core.ItemCompare
    users: compare_core.UserCompare | None


def run_compare(ctx: ManyContext) -> Section:
    """Pairwise overlap@k, Jaccard@k and CKA; with a log, per-view accuracy, unique hits, the
    N-view oracles, greedy selection and (``--anchor``) what each view adds to the anchor."""
    settings, views = ctx.settings, ctx.views
    names = list(views.names)
    backend = ctx.require_backend()
    div_view = diversity_view(settings, names)  # a bad name is refused before any work
    with ctx.progress("compare: nearest neighbours of each view") as progress:
        items = compare_core.compare_items(
            views.matrices,
            names,
            settings["k"],
            backend,
            metric=views.metric,
            sample=settings.get("sample"),
            seed=settings["seed"],
            progress=progress,
        )
    users: compare_core.UserCompare | None = None
    split: dict[str, Any] | None = None
    if ctx.has_log:
        ev, split = ctx.test_phase
        with ctx.progress("compare: ranking each view for the test users") as progress:
            users = compare_core.compare_users(
                ev,
                views.matrices,
                names,
                settings["k"],
                backend,
                anchor=settings.get("anchor"),
                n_boot=settings["n_boot"],
                seed=settings["seed"],
                progress=progress,
            )
    body: dict[str, Any] = {"views": names, "anchor": settings.get("anchor")}
    body.update(items.to_dict())
    if users is None:
        body["user_level"] = {"status": "not run", "reason": NO_LOG}
    else:
        body["user_level"] = "ok"
        body.update(users.to_dict())
    definitions = {**compare_core.DEFINITIONS, **diversity.DEFINITIONS}
    if users is not None:
        definitions = {**evaluation.DEFINITIONS, **definitions}
    segments: Any = None
    pair_segments: dict[str, Any] = {}
    if ctx.segments is not None:
        definitions.update(segments_core.DEFINITIONS)
        definitions.update(segments_core.PAIR_DEFINITIONS)
        found = compare_pair_segments(ctx.segments, items, settings)
        pair_segments = {"pair_segments": found if isinstance(found, dict) else found.to_dict()}
        if users is None or ctx.log is None:
            segments = {"column": ctx.segments.column, "status": "not run", "reason": NO_LOG}
        else:
            segments = compare_segments(
                ctx.segments, ctx.test_phase[0], int(ctx.log.user_ids.shape[0]), users, settings
            )
    lists = {} if users is None else {k: users.lists for k in users.per_k}
    return make_section(
        "compare",
        CompareResult(items, users),
        body,
        split=split,
        definitions=definitions,
        join=views.to_dict(),
        interactions=ctx.coverage,
        **diversity_part(
            lists,
            unit_rows(views.matrices[names.index(div_view)]),
            {n: diversity.effective_rank(m) for n, m in zip(names, views.matrices, strict=True)},
            div_view,
        ),
        **segments_part(segments),
        **pair_segments,
    )


def compare_provenance(section: Section, settings: Any, backend: Backend | None) -> Section:
    """The section with its provenance: the usual one, plus every view file's fingerprint
    under ``inputs`` (``view.<name>``, ``view.<name>.ids``)."""
    record = provenance(settings, backend)
    record["inputs"] = {**record["inputs"], **view_inputs(settings)}
    return replace(section, provenance=record)
