"""Runner of ``probe``: can a map fitted on some items recover one view from the other?"""

from __future__ import annotations

from collections.abc import Sequence

from complement.config import Settings
from complement.core import probe as probe_core
from complement.core.probe_metrics import RecTask, rec_task
from complement.core.shifts import NEEDS_LOG, ItemShift, make_item_shift, shift_from_log
from complement.errors import UsageError
from complement.pipeline.context import Context
from complement.pipeline.section import Section, Skip, make_section

__all__ = ["REPORT_CAPACITIES", "capacities_of", "fixed_epochs", "make_shift", "run_probe"]

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


def run_probe(ctx: Context, capacities: Sequence[str]) -> Section:
    """Fit each capacity under the configured shift and under the random reference."""
    settings, views = ctx.settings, ctx.views
    epochs = fixed_epochs(settings)  # refuse a bad combination before any work
    kind = settings["shift"]
    chosen = make_shift(ctx, kind)
    reference = chosen if kind == "random" else make_shift(ctx, "random")
    sem2cf = settings["direction"] == "sem2cf"
    source, target = (views.sem, views.cf) if sem2cf else (views.cf, views.sem)
    rec = _rec(ctx, chosen, "cf" if sem2cf else "sem")
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
            epochs=epochs,
            raw=bool(settings.get("raw", False)),
            seed=settings["seed"],
            device=backend.device,
            rec=rec,
            progress=step,
        )
    return make_section(
        "probe",
        result,
        result.to_dict(),
        definitions=probe_core.DEFINITIONS,
        views=views.to_dict(),
        split=ctx.split.to_dict() if ctx.split is not None else None,
        interactions=ctx.coverage,
    )
