"""``align``'s ranked lists beyond the JSON: rankings with a ``setting`` column, run files.

Per evaluation setting (``warm``, ``cold``, ``cold_all``) every system's top-20 list exactly as
the setting's table evaluated it: the two views, each fusion by its JSON name, ``oracle_select``
(per user the view list the ``select`` bound picks) and each trained system (its first seed).
Ids are the log's user ids and the views' item ids; the candidate index of a setting is mapped
back to the item. Column schemas: docs/outputs.md.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from complement.io.tables_out import ranking_schema
from complement.pipeline.context import Context
from complement.pipeline.exports import (
    Ranked,
    oracle_select_choice,
    rankings_frame,
    run_files,
)

if TYPE_CHECKING:  # the align core imports torch: only when align runs
    from complement.core.align_eval import SettingLists

__all__ = ["align_qrels_frame", "align_rankings_frame", "align_run_files", "setting_lists"]


def setting_lists(result: Any) -> dict[str, SettingLists]:
    """The evaluated settings' lists of an ``AlignResult`` (skipped settings left out)."""
    return {name: s.ranked for name, s in result.settings.items() if getattr(s, "ranked", None)}


def _select(ranked: SettingLists) -> tuple[np.ndarray, np.ndarray]:
    sem, cf = ranked.lists["semantic"], ranked.lists["collaborative"]
    k = sem.shape[1]
    pick = oracle_select_choice(ranked.ev, sem, cf, k)
    nan = np.full(sem.shape, np.nan)
    s_scores = ranked.scores.get("semantic", nan)
    c_scores = ranked.scores.get("collaborative", nan)
    return (
        np.where(pick[:, None], sem, cf),
        np.where(pick[:, None], s_scores, c_scores),
    )


def _user_ids(ctx: Context, ranked: SettingLists) -> np.ndarray:
    log, _ = ctx.require_log()
    return np.asarray(log.user_ids)[ranked.ev.users].astype(str)


def align_rankings_frame(ctx: Context, result: Any) -> pl.DataFrame:
    """One row per (setting, system, user, rank): setting, system, user_id, rank, item_id,
    score, hit (``-1`` slots left out)."""
    ids = np.asarray(ctx.views.ids)
    parts = []
    for setting, ranked in setting_lists(result).items():
        select, select_scores = _select(ranked)
        lists = {**ranked.lists, "oracle_select": select}
        scores = {**ranked.scores, "oracle_select": select_scores}
        systems = {
            name: Ranked(arr, scores.get(name, np.full(arr.shape, np.nan)))
            for name, arr in lists.items()
        }
        frame = rankings_frame(ctx, systems, ranked.ev, item_ids=ids[ranked.index])
        parts.append(frame.select(pl.lit(setting, dtype=pl.Utf8).alias("setting"), pl.all()))
    if not parts:  # every setting skipped
        return pl.DataFrame(schema={"setting": pl.Utf8, **ranking_schema()})
    return pl.concat(parts)


def align_qrels_frame(ctx: Context, ranked: SettingLists) -> pl.DataFrame:
    """The setting's targets of its evaluated users: one row per (user_id, item_id)."""
    ev = ranked.ev
    ids = np.asarray(ctx.views.ids).astype(str)
    owner = np.repeat(np.arange(ev.n_users), ev.n_targets)
    return pl.DataFrame(
        {
            "user_id": pl.Series(_user_ids(ctx, ranked)[owner], dtype=pl.Utf8),
            "item_id": pl.Series(ids[ranked.index[ev.target_indices]], dtype=pl.Utf8),
        }
    )


def align_run_files(
    ctx: Context, result: Any, run_dir: str, rankings: pl.DataFrame
) -> list[tuple[str, bytes]]:
    """``<run_dir>/<setting>/<system>.run`` and ``<run_dir>/<setting>/qrels.txt``."""
    files: list[tuple[str, bytes]] = []
    for setting, ranked in setting_lists(result).items():
        frame = rankings.filter(pl.col("setting") == setting).drop("setting")
        files.extend(
            run_files(os.path.join(run_dir, setting), frame, align_qrels_frame(ctx, ranked))
        )
    return files
