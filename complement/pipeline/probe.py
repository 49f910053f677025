"""Runner of ``probe``: can a map fitted on some items recover one view from the other?

The runner works in two steps: :func:`plan_probe` checks the options and makes the shifts,
and starts the MLP fits in a worker process where that pays (see
:mod:`complement.pipeline.mlp_worker`); :func:`run_probe` fits the rest and measures.
``complement probe`` (:func:`probe_loading`) and ``complement report`` start that worker
before loading the inputs, and the report plans the probe before its first section, so that
torch loads and the MLPs train on another core while the rest runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any

from complement.config import Settings
from complement.core import probe as probe_core
from complement.core import probe_models
from complement.core.probe_fit import FitInputs, fit_inputs, probe_rows
from complement.core.probe_metrics import RecTask, rec_task
from complement.core.shifts import (
    NEEDS_LOG,
    ItemShift,
    make_item_shift,
    random_reference,
    shift_from_log,
)
from complement.errors import ComplementError, UsageError
from complement.pipeline.context import Context
from complement.pipeline.mlp_worker import MlpFits, Worker, load_beside, worker_wanted
from complement.pipeline.section import Section, Skip, make_section
from complement.pipeline.structure import UnitContext, unit_context, widen

__all__ = [
    "REPORT_CAPACITIES",
    "ProbePlan",
    "capacities_of",
    "fixed_epochs",
    "make_shift",
    "plan_probe",
    "probe_loading",
    "run_probe",
]

#: the capacities ``complement report`` fits
REPORT_CAPACITIES = ("linear", "mlp1")


def capacities_of(choice: str) -> tuple[str, ...]:
    """``--capacity``: one capacity, or every one for ``all``."""
    return probe_core.CAPACITIES if choice == "all" else (choice,)


def fixed_epochs(settings: Settings) -> int | None:
    """The MLPs' fixed epochs under ``--no-early-stop`` (default 400), None with early stopping.

    Commands without the protocol options (``report``) keep early stopping.
    """
    epochs = settings.get("epochs")
    if settings.get("early_stop", True):
        if epochs is not None:
            raise UsageError(
                f"--epochs {epochs} fixes the MLP epochs only with --no-early-stop; with early "
                "stopping --max-epochs caps them"
            )
        return None
    return probe_core.PAPER_EPOCHS if epochs is None else int(epochs)


def make_shift(ctx: Context, kind: str) -> ItemShift:
    """The item shift ``kind`` from the loaded log and split (see complement.core.shifts)."""
    settings, n = ctx.settings, ctx.views.n_items
    if kind not in NEEDS_LOG:
        return make_item_shift(kind, n, seed=settings["seed"])
    if not ctx.has_log:
        raise Skip(
            f"--shift {kind} needs an interaction log: pass --interactions LOG or set "
            "[data] interactions in complement.toml"
        )
    log, index = ctx.require_log()
    return shift_from_log(
        kind,
        n,
        users=log.users,
        item_index=index,
        timestamps=log.timestamps,
        split=ctx.require_split(),
        test_frac=settings["test_frac"],
        cutoff=settings.get("cutoff"),
        tail_frac=settings["tail_frac"],
        max_interactions=settings["max_interactions"],
    )


def _rec(ctx: Context, shift: ItemShift, target: str) -> RecTask | None:
    """Recall of the target view's users on the shift's test items (needs user vectors)."""
    if not ctx.has_log:
        return None
    users = ctx.users_of(target)
    if users is None:
        return None
    log, index = ctx.require_log()
    return rec_task(
        log.users,
        index,
        ctx.require_split().part,
        users.vectors,
        users.have,
        shift.test,
        ctx.views.n_items,
    )


@dataclass(frozen=True)
class ProbePlan:
    """The probe's shifts and options, checked, and its MLP fits under way in a worker (if
    any); ``error``: the refusal to raise when the probe runs. Close it when done.

    ``reference`` is the random reference of the gap, None (with ``gap_reason``) when it
    cannot be formed; ``unit``: the context the probe runs on (see
    :func:`complement.pipeline.structure.unit_context`)."""

    capacities: tuple[str, ...]
    chosen: ItemShift | None = None
    reference: ItemShift | None = None
    epochs: int | None = None
    rec: RecTask | None = None
    fits: MlpFits | None = None
    error: ComplementError | None = None
    gap_reason: str | None = None
    unit: UnitContext | None = None

    def close(self) -> None:
        if self.fits is not None:
            self.fits.close()


def _source_target(ctx: Context) -> tuple[Any, Any]:
    """The views the probe maps from and to (``--direction``)."""
    views = ctx.views
    return (views.sem, views.cf) if ctx.settings["direction"] == "sem2cf" else (views.cf, views.sem)


def _worker_fits(ctx: Context, plan: ProbePlan, worker: Worker | None) -> MlpFits | None:
    """The plan's MLP fits started in a worker process (``worker`` where one is already
    started), where that pays (None: fit here)."""
    assert plan.chosen is not None
    settings, device = ctx.settings, ctx.require_backend().device
    source, target = _source_target(ctx)
    roles = {"shift": plan.chosen}
    if plan.reference is not None and plan.reference.kind != plan.chosen.kind:
        roles["reference"] = plan.reference
    mlps = [c for c in plan.capacities if c in probe_models.MLP_LAYERS]
    # per fit: every item's source and the training pairs, float64
    n, p, q = source.shape[0], source.shape[1], target.shape[1]
    size = len(mlps) * len(roles) * 8 * n * (2 * p + q)
    if not worker_wanted(plan.capacities, device, size):
        return None
    xs, yt = probe_rows(source, target, bool(settings.get("raw", False)))
    jobs: dict[tuple[str, str], FitInputs] = {}
    for capacity in mlps:
        for role, shift in roles.items():
            jobs[(capacity, role)] = fit_inputs(xs, yt, shift)
    return MlpFits(jobs, _fit_options(settings, plan.epochs, device), worker)


def _fit_options(settings: Settings, epochs: int | None, device: str) -> dict[str, object]:
    return {
        "alpha": settings["ridge_alpha"],
        "rank": settings["rank"],
        "max_epochs": settings["max_epochs"],
        "seed": settings["seed"],
        "device": device,
        "epochs": epochs,
    }


def plan_probe(ctx: Context, capacities: Sequence[str], worker: Worker | None = None) -> ProbePlan:
    """Check the options, make the shifts and start the MLP fits (see the module doc).

    A refusal (a missing log, a bad option) is kept in the plan and raised by
    :func:`run_probe`, so that a report records it at the probe's turn. ``worker``: an MLP
    worker started earlier (:func:`complement.pipeline.mlp_worker.start_worker`); the plan
    uses it or closes it.
    """
    try:
        plan = _plan(ctx, tuple(capacities))
        fits = None
        if plan.error is None:
            assert plan.unit is not None
            fits = _worker_fits(plan.unit.ctx, plan, worker)
    except BaseException:
        if worker is not None:
            worker.close()
        raise
    if fits is None and worker is not None:  # a refusal, or the fits run here: not needed
        worker.close()
    return replace(plan, fits=fits)


def _plan(ctx: Context, caps: tuple[str, ...]) -> ProbePlan:
    """The checked shifts and options, or the refusal (no fit started)."""
    settings = ctx.settings
    gap_reason: str | None = None
    try:
        epochs = fixed_epochs(settings)  # refuse a bad combination before any work
        unit = unit_context(ctx, "probe")  # all-zero rows: refused, or left out
        ctx = unit.ctx
        kind = settings["shift"]
        chosen = make_shift(ctx, kind)
        reference: ItemShift | None = chosen
        if kind != "random":  # too few items for it: the probe runs, without a gap
            reference, gap_reason = random_reference(ctx.views.n_items, seed=settings["seed"])
        sem2cf = settings["direction"] == "sem2cf"
        rec = _rec(ctx, chosen, "cf" if sem2cf else "sem")
        ctx.require_backend()
        source, target = _source_target(ctx)
        if source.shape[0] == target.shape[0]:  # else run_probe refuses the views
            probe_core.check_options(
                caps,
                source.shape[1],
                target.shape[1],
                settings["ridge_alpha"],
                settings["rank"],
                settings["max_epochs"],
                epochs,
            )
    except ComplementError as exc:
        return ProbePlan(caps, error=exc)
    return ProbePlan(caps, chosen, reference, epochs, rec, gap_reason=gap_reason, unit=unit)


def run_probe(ctx: Context, capacities: Sequence[str], plan: ProbePlan | None = None) -> Section:
    """Fit each capacity under the configured shift and under the random reference.

    ``plan``: from :func:`plan_probe` for these capacities (the caller closes it); None: made
    and closed here.
    """
    own = plan is None
    plan = plan_probe(ctx, capacities) if plan is None else plan
    try:
        return _run(ctx, plan)
    finally:
        if own:
            plan.close()


def probe_loading(
    load: Callable[[], Context], capacities: Sequence[str], device: str
) -> tuple[Context, Section]:
    """The context ``load`` returns and the probe on it (``device``: as resolved for it).

    On the CPU the MLP worker starts before loading, so that torch imports meanwhile.
    """
    caps = tuple(capacities)
    ctx, worker = load_beside(load, caps, device)
    with closing(plan_probe(ctx, caps, worker)) as plan:
        return ctx, run_probe(ctx, caps, plan)


def _run(ctx: Context, plan: ProbePlan) -> Section:
    if plan.error is not None:
        raise plan.error
    assert plan.chosen is not None and plan.unit is not None
    ctx = plan.unit.ctx
    settings, views = ctx.settings, ctx.views
    capacities, chosen, reference = plan.capacities, plan.chosen, plan.reference
    source, target = _source_target(ctx)
    backend = ctx.require_backend()
    with ctx.progress("probe: fitting") as progress:
        done = [0]

        def step(name: str) -> None:
            ctx.notify(f"probe: fitting {name}")
            progress(done[0], len(capacities))
            done[0] += 1

        result = probe_core.run_probe(
            source,
            target,
            chosen,
            reference,
            tuple(capacities),
            backend,
            direction=settings["direction"],
            alpha=settings["ridge_alpha"],
            rank=settings["rank"],
            max_epochs=settings["max_epochs"],
            epochs=plan.epochs,
            raw=bool(settings.get("raw", False)),
            seed=settings["seed"],
            device=backend.device,
            rec=plan.rec,
            progress=step,
            fitted=plan.fits.fits() if plan.fits is not None else None,
            gap_reason=plan.gap_reason,
        )
    section = make_section(
        "probe",
        result,
        result.to_dict(),
        definitions=probe_core.DEFINITIONS,
        views=views.to_dict(),
        split=ctx.split.to_dict() if ctx.split is not None else None,
        interactions=ctx.coverage,
    )
    return section if plan.unit.kept is None else _widened(section, plan.unit)


def _widened(section: Section, unit: UnitContext) -> Section:
    """The section with its result's per-item figures (for --per-item) spread over every item
    of the run: the document is of the items kept; the items left out get NaN and no side."""
    result = section.result
    assert unit.kept is not None
    kept = unit.kept

    def spread(shift: ItemShift | None) -> ItemShift | None:
        if shift is None:
            return None
        return replace(shift, train=kept[shift.train], test=kept[shift.test])

    capacities = {
        name: replace(
            cap,
            item_cosine=None if cap.item_cosine is None else widen(cap.item_cosine, unit),
            item_sq_error=None if cap.item_sq_error is None else widen(cap.item_sq_error, unit),
        )
        for name, cap in result.capacities.items()
    }
    shift = spread(result.shift)
    assert shift is not None
    return replace(
        section,
        result=replace(
            result, shift=shift, reference=spread(result.reference), capacities=capacities
        ),
    )
