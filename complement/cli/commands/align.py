"""``complement align``: train the published alignment strategies and judge them against fusion.

:func:`run_align` is everything between loading and writing; :func:`export_embeddings` writes
each strategy's user and item vectors as ``.npz`` (``embeddings`` + ``ids``) so that every
other command can diagnose them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import numpy.typing as npt
import typer

from complement.cli.commands.oracle import RrfDepthOpt
from complement.cli.common import (
    LOG_OPTIONS,
    RUN_OPTIONS,
    SPLIT_OPTIONS,
    USER_OPTIONS,
    CfArg,
    CfIdsOpt,
    CfUsersIdsOpt,
    CfUsersOpt,
    ConfigOpt,
    CutoffOpt,
    DeviceOpt,
    DropInvalidOpt,
    InteractionsOpt,
    ItemColOpt,
    JsonOpt,
    MaxMissingOpt,
    NBootOpt,
    QuietOpt,
    SeedOpt,
    SemArg,
    SemIdsOpt,
    SemUsersIdsOpt,
    SemUsersOpt,
    SplitOpt,
    TestFracOpt,
    TestOpt,
    TimeColOpt,
    TrainOpt,
    UserColOpt,
    ValidFracOpt,
    guarded,
    out,
    progress_bar,
    provenance,
    settings_for,
    write_doc,
)
from complement.cli.inputs import Inputs, load_inputs, load_user_vectors
from complement.config import OPTIONS, Settings, declare_command
from complement.core import evaluation, fusion
from complement.core import oracle as oracle_core
from complement.core.evaluation import split_summary
from complement.errors import InputError
from complement.report.jsonio import write_bytes_atomic
from complement.retrieval import Backend, get_backend

if TYPE_CHECKING:  # the strategies are torch models: imported when align runs, not at start
    from complement.core.align import AlignResult

__all__ = ["ALIGN_OPTIONS", "align", "export_embeddings", "run_align"]

ALIGN_OPTIONS = (
    ("semantic", "collaborative", "sem_ids", "cf_ids", "drop_invalid")
    + LOG_OPTIONS
    + SPLIT_OPTIONS
    + USER_OPTIONS
    + RUN_OPTIONS
    + ("n_boot", "rrf_depth", "method", "epochs", "lr", "dim", "export")
)
declare_command("align", ALIGN_OPTIONS)


def _h(name: str) -> str:
    opt = OPTIONS[name]
    tail = f"; default {opt.default}]" if opt.default is not None else "]"
    return f"{opt.help} [config: {name}{tail}"


MethodOpt = Annotated[str | None, typer.Option("--method", help=_h("method"))]
EpochsOpt = Annotated[int | None, typer.Option("--epochs", help=_h("epochs"))]
LrOpt = Annotated[float | None, typer.Option("--lr", help=_h("lr"))]
DimOpt = Annotated[int | None, typer.Option("--dim", help=_h("dim"))]
ExportOpt = Annotated[Path | None, typer.Option("--export", help=_h("export"))]


def export_folder(path: str | None) -> Path | None:
    """The --export folder, created if its parent exists (checked before any training)."""
    if path is None:
        return None
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--export {folder}: is a file; give a folder for the .npz files")
    if not folder.exists():
        parent = folder.parent if str(folder.parent) else Path(".")
        if not parent.is_dir():
            raise InputError(
                f"--export {folder}: the folder {parent} does not exist; create it or choose "
                "another path"
            )
        folder.mkdir()
    return folder


def _npz(embeddings: npt.NDArray[np.float32], ids: npt.NDArray[np.str_]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, embeddings=np.asarray(embeddings, dtype=np.float32), ids=np.asarray(ids))
    return buffer.getvalue()


def export_embeddings(
    folder: Path, result: AlignResult, item_ids: npt.NDArray[np.str_], user_ids: npt.NDArray[Any]
) -> dict[str, dict[str, str]]:
    """``<method>_items.npz`` and ``<method>_users.npz`` per strategy, written atomically."""
    written: dict[str, dict[str, str]] = {}
    for method, trained in result.training.items():
        paths = {"items": folder / f"{method}_items.npz", "users": folder / f"{method}_users.npz"}
        write_bytes_atomic(paths["items"], _npz(trained.items, item_ids))
        write_bytes_atomic(paths["users"], _npz(trained.users, np.asarray(user_ids, dtype=str)))
        written[method] = {name: str(p) for name, p in paths.items()}
    return written


def run_align(
    settings: Settings, inputs: Inputs, backend: Backend, *, quiet: bool = False
) -> tuple[AlignResult, dict[str, Any], dict[str, Any]]:
    """Train and evaluate: (result, JSON body, the document's other sections)."""
    from complement.core import align as align_core
    from complement.core.strategies import METHODS, torch_device

    log, index = inputs.require_log()
    split = inputs.require_split()
    sem_u = load_user_vectors(settings, "sem", inputs)
    cf_u = load_user_vectors(settings, "cf", inputs)
    ok = None
    for loaded in (sem_u, cf_u):
        if loaded is not None:
            ok = loaded[1] if ok is None else ok & loaded[1]
    method = settings["method"]
    methods = METHODS if method == "all" else (method,)
    device = torch_device(settings["device"]).type
    with progress_bar("align: training strategies", quiet) as progress:
        result = align_core.align(
            log.users,
            index,
            split,
            inputs.views.sem,
            inputs.views.cf,
            int(log.user_ids.shape[0]),
            methods,
            backend,
            sem_users=None if sem_u is None else sem_u[0],
            cf_users=None if cf_u is None else cf_u[0],
            user_ok=ok,
            epochs=settings["epochs"],
            lr=settings["lr"],
            dim=settings["dim"],
            seed=settings["seed"],
            device=device,
            rrf_depth=settings["rrf_depth"],
            n_boot=settings["n_boot"],
            progress=progress,
        )
    assert result.test is not None
    sections = {
        "split": split_summary(split, result.test),
        "definitions": {
            **evaluation.DEFINITIONS,
            **oracle_core.DEFINITIONS,
            **fusion.DEFINITIONS,
            **align_core.DEFINITIONS,
        },
        "views": inputs.views.to_dict(),
        "interactions": inputs.coverage,
        "training_device": device,
    }
    return result, result.to_dict(), sections


@guarded
def align(
    sem: SemArg = None,
    cf: CfArg = None,
    sem_ids: SemIdsOpt = None,
    cf_ids: CfIdsOpt = None,
    interactions: InteractionsOpt = None,
    max_missing: MaxMissingOpt = None,
    user_col: UserColOpt = None,
    item_col: ItemColOpt = None,
    time_col: TimeColOpt = None,
    split: SplitOpt = None,
    test_frac: TestFracOpt = None,
    cutoff: CutoffOpt = None,
    valid_frac: ValidFracOpt = None,
    train: TrainOpt = None,
    test: TestOpt = None,
    sem_users: SemUsersOpt = None,
    sem_users_ids: SemUsersIdsOpt = None,
    cf_users: CfUsersOpt = None,
    cf_users_ids: CfUsersIdsOpt = None,
    method: MethodOpt = None,
    epochs: EpochsOpt = None,
    lr: LrOpt = None,
    dim: DimOpt = None,
    export: ExportOpt = None,
    rrf_depth: RrfDepthOpt = None,
    n_boot: NBootOpt = None,
    seed: SeedOpt = None,
    device: DeviceOpt = None,
    drop_invalid: DropInvalidOpt = None,
    json: JsonOpt = None,
    quiet: QuietOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Alignment strategies (directau, carec, darec, sella) against the views, fusion, oracle."""
    settings = settings_for(
        "align",
        config,
        semantic=sem,
        collaborative=cf,
        sem_ids=sem_ids,
        cf_ids=cf_ids,
        interactions=interactions,
        max_missing=max_missing,
        user_col=user_col,
        item_col=item_col,
        time_col=time_col,
        split=split,
        test_frac=test_frac,
        cutoff=cutoff,
        valid_frac=valid_frac,
        train=train,
        test=test,
        sem_users=sem_users,
        sem_users_ids=sem_users_ids,
        cf_users=cf_users,
        cf_users_ids=cf_users_ids,
        method=method,
        epochs=epochs,
        lr=lr,
        dim=dim,
        export=export,
        rrf_depth=rrf_depth,
        n_boot=n_boot,
        seed=seed,
        device=device,
        drop_invalid=drop_invalid,
        json=json,
        quiet=quiet,
    )
    backend = get_backend(settings["device"])
    folder = export_folder(settings["export"])
    inputs = load_inputs(settings, need_split=True)
    result, body, sections = run_align(settings, inputs, backend, quiet=bool(settings["quiet"]))
    exports = None
    if folder is not None:
        log, _ = inputs.require_log()
        exports = export_embeddings(folder, result, inputs.views.ids, log.user_ids)
    write_doc(
        settings,
        "complement.align/1",
        body,
        exports=exports,
        **sections,
        provenance=provenance(settings, backend),
    )
    from complement.report.align_tables import render_align

    render_align(result, out, sections["split"], exports)
