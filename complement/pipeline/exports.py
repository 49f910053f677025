"""The run's tables beyond the JSON: ranked lists, TREC runs, per-user and per-item tables.

Everything is built from the sections' core results and the context, as polars frames or bytes;
nothing is printed or written here (the commands pass the bytes to ``emit``). Column schemas:
docs/outputs.md.

- Rankings: one row per (system, user, rank) of each system's list at the largest K, exactly
  the lists behind the JSON (``-1`` slots, which no item could fill, are left out); align's
  have a ``setting`` column and a run folder per setting (:mod:`~.align_exports`).
- Per user: one row per (evaluated user, K) with Recall/NDCG/hit of every system at that K.
- Per item: one row per item with its overlap@k / jaccard@k (query items only) and private
  energy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData
from complement.core.hits import HitsResult
from complement.core.metrics import evaluate_lists, hit_matrix, row_isin
from complement.core.popularity import GROUPS, item_counts
from complement.errors import InputError, UsageError
from complement.io.tables_out import parquet_bytes, qrels_text, ranking_schema, trec_run_text
from complement.pipeline.context import Context
from complement.pipeline.section import Section

if TYPE_CHECKING:  # the oracle loads only when it runs; polars when a
    import polars as pl  # table is built

    from complement.core.oracle import OracleResult

__all__ = [
    "Ranked",
    "export_files",
    "oracle_select_choice",
    "per_item_frame",
    "per_user_frame",
    "qrels_frame",
    "rankings_frame",
    "ranked_systems",
    "run_files",
    "section_map",
]

#: user classes of the per-user table: hits in both views' top K, only the semantic's, only
#: the collaborative's, neither (the JSON's ``user_classes``: both, semantic_only,
#: collaborative_only, no_hit)
USER_CLASSES = ("both", "semantic", "collaborative", "none")


@dataclass(frozen=True)
class Ranked:
    """One system's ranked lists at the largest K (one row per evaluated user)."""

    lists: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]


def _scores(scores: npt.NDArray[np.float64] | None, shape: tuple[int, ...]) -> Any:
    if scores is None:
        return np.full(shape, np.nan)
    return scores


def oracle_select_choice(
    ev: EvalData, sem: npt.NDArray[np.int64], cf: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.bool_]:
    """Per user: True when the oracle's ``select`` picks the semantic list at K.

    ``select@K = max(Recall_S(u), Recall_C(u))``; on a tie the semantic list (the order of
    ``best_single``), so the chosen list's Recall@K is the user's ``select@K``.
    """
    metrics = {
        name: evaluate_lists(lists[:, :k], ev, [k])[k]
        for name, lists in (("semantic", sem), ("collaborative", cf))
    }
    return np.asarray(metrics["semantic"].recall >= metrics["collaborative"].recall)


def _hits_systems(result: HitsResult, kmax: int) -> dict[str, Ranked]:
    out = {}
    for name, lists, scores in (
        ("semantic", result.sem_lists, result.sem_scores),
        ("collaborative", result.cf_lists, result.cf_scores),
    ):
        out[name] = Ranked(lists[:, :kmax], _scores(scores, lists.shape)[:, :kmax])
    return out


def _oracle_systems(result: OracleResult, ev: EvalData, kmax: int) -> dict[str, Ranked]:
    out: dict[str, Ranked] = {}
    for name in ("semantic", "collaborative"):
        lists = result.lists[name]
        out[name] = Ranked(lists[:, :kmax], _scores(result.scores.get(name), lists.shape)[:, :kmax])
    for name, lists in result.fused_per_k.get(kmax, {}).items():
        out[name] = Ranked(lists[:, :kmax], _scores(result.scores.get(name), lists.shape)[:, :kmax])
    pick = oracle_select_choice(ev, out["semantic"].lists, out["collaborative"].lists, kmax)
    out["oracle_select"] = Ranked(
        np.where(pick[:, None], out["semantic"].lists, out["collaborative"].lists),
        np.where(pick[:, None], out["semantic"].scores, out["collaborative"].scores),
    )
    return out


def _sections(sections: Mapping[str, Section | None]) -> dict[str, Section]:
    return {name: s for name, s in sections.items() if s is not None}


def ranked_systems(ctx: Context, sections: Mapping[str, Section | None]) -> dict[str, Ranked]:
    """Every system's lists at the largest K of the run, by its JSON name.

    From ``oracle`` when it ran (views, fusions at the alpha of the largest K, oracle_select),
    else from ``hits`` (the two views). ``align``'s lists are per setting
    (:mod:`~.align_exports`).
    """
    found = _sections(sections)
    out: dict[str, Ranked] = {}
    if "oracle" in found:
        result = found["oracle"].result
        kmax = max(result.per_k)
        out.update(_oracle_systems(result, ctx.evaluation.test, kmax))
    elif "hits" in found:
        result = found["hits"].result
        out.update(_hits_systems(result, max(result.per_k)))
    return out


def _user_ids(ctx: Context, ev: EvalData) -> npt.NDArray[np.str_]:
    log, _ = ctx.require_log()
    return np.asarray(log.user_ids)[ev.users].astype(str)


def rankings_frame(
    ctx: Context,
    systems: Mapping[str, Ranked],
    ev: EvalData | None = None,
    item_ids: npt.NDArray[Any] | None = None,
) -> pl.DataFrame:
    """One row per (system, user, rank): system, user_id, rank, item_id, score, hit.

    ``item_ids[j]`` is the id of item index ``j`` of the lists (default: the views' ids).
    """
    import polars as pl

    ev = ev if ev is not None else ctx.evaluation.test
    users = _user_ids(ctx, ev)
    ids = np.asarray(ctx.views.ids if item_ids is None else item_ids).astype(str)
    parts = []
    for name, ranked in systems.items():
        lists = ranked.lists
        filled = lists >= 0
        rows, cols = np.nonzero(filled)
        hits = hit_matrix(lists, ev)
        parts.append(
            pl.DataFrame(
                {
                    "system": pl.Series([name] * rows.size, dtype=pl.Utf8),
                    "user_id": pl.Series(users[rows], dtype=pl.Utf8),
                    "rank": pl.Series(cols + 1, dtype=pl.Int64),
                    "item_id": pl.Series(ids[lists[rows, cols]], dtype=pl.Utf8),
                    "score": pl.Series(ranked.scores[rows, cols], dtype=pl.Float64),
                    "hit": pl.Series(hits[rows, cols], dtype=pl.Boolean),
                }
            )
        )
    if not parts:
        return pl.DataFrame(schema=ranking_schema())
    return pl.concat(parts)


def qrels_frame(ctx: Context, ev: EvalData | None = None) -> pl.DataFrame:
    """The test targets of the evaluated users: one row per (user_id, item_id)."""
    import polars as pl

    ev = ev if ev is not None else ctx.evaluation.test
    users = _user_ids(ctx, ev)
    ids = np.asarray(ctx.views.ids).astype(str)
    owner = np.repeat(np.arange(ev.n_users), ev.n_targets)
    return pl.DataFrame(
        {
            "user_id": pl.Series(users[owner], dtype=pl.Utf8),
            "item_id": pl.Series(ids[ev.target_indices], dtype=pl.Utf8),
        }
    )


def _one_word(values: pl.Series, what: str) -> None:
    bad = values.filter(values.str.contains(r"\s") | (values.str.len_chars() == 0))
    if bad.len():
        raise InputError(
            f"--run-dir: the {what} {bad[0]!r} is empty or contains white space, which a TREC "
            "run file cannot hold; use --rankings (parquet) instead"
        )


def run_files(run_dir: str, rankings: pl.DataFrame, qrels: pl.DataFrame) -> list[tuple[str, bytes]]:
    """``<run_dir>/<system>.run`` for each system and ``<run_dir>/qrels.txt``."""
    import polars as pl

    _one_word(rankings["user_id"], "user id")
    _one_word(rankings["item_id"], "item id")
    _one_word(qrels["user_id"], "user id")
    _one_word(qrels["item_id"], "item id")
    files = []
    for system in rankings["system"].unique(maintain_order=True).to_list():
        frame = rankings.filter(pl.col("system") == system)
        files.append((os.path.join(run_dir, f"{system}.run"), trec_run_text(frame, system)))
    files.append((os.path.join(run_dir, "qrels.txt"), qrels_text(qrels)))
    return files


def _user_class(any_s: npt.NDArray[np.bool_], any_c: npt.NDArray[np.bool_]) -> list[str]:
    code = np.where(any_s & any_c, 0, np.where(any_s, 1, np.where(any_c, 2, 3)))
    return [USER_CLASSES[c] for c in code.tolist()]


def per_user_frame(ctx: Context, sections: Mapping[str, Section | None]) -> pl.DataFrame:
    """One row per (evaluated user, K): activity, recall/ndcg/hit of each system, user_class.

    Systems: the two views (from ``oracle`` when it ran, else ``hits``); with ``oracle`` also
    each fusion at that K (score_interpolation at that K's alpha) and the oracle bounds
    ``oracle_union``, ``oracle_budget``, ``oracle_select`` (recall only).
    """
    import polars as pl

    found = _sections(sections)
    ev = ctx.evaluation.test
    users = _user_ids(ctx, ev)
    per_k_lists: dict[int, dict[str, npt.NDArray[np.int64]]] = {}
    if "oracle" in found:
        res: OracleResult = found["oracle"].result
        for k in sorted(res.per_k):
            per_k_lists[k] = {
                "semantic": res.lists["semantic"],
                "collaborative": res.lists["collaborative"],
                **res.fused_per_k.get(k, {}),
            }
    elif "hits" in found:
        hres: HitsResult = found["hits"].result
        for k in sorted(hres.per_k):
            per_k_lists[k] = {"semantic": hres.sem_lists, "collaborative": hres.cf_lists}
    frames = []
    for k, systems in per_k_lists.items():
        cols: dict[str, Any] = {
            "user_id": pl.Series(users, dtype=pl.Utf8),
            "K": pl.Series(np.full(ev.n_users, k), dtype=pl.Int64),
            "activity": pl.Series(ev.activity, dtype=pl.Int64),
        }
        n_hits = {}
        for name, lists in systems.items():
            m = evaluate_lists(lists[:, :k], ev, [k])[k]
            cols[f"recall_{name}"] = pl.Series(m.recall, dtype=pl.Float64)
            cols[f"ndcg_{name}"] = pl.Series(m.ndcg, dtype=pl.Float64)
            cols[f"hit_{name}"] = pl.Series(m.n_hits > 0, dtype=pl.Boolean)
            n_hits[name] = m.n_hits
        if "oracle" in found:
            s, c = systems["semantic"][:, :k], systems["collaborative"][:, :k]
            union_hits = _union_hits(s, c, ev)
            size = ev.n_targets
            cols["oracle_union"] = pl.Series(union_hits / size, dtype=pl.Float64)
            cols["oracle_budget"] = pl.Series(np.minimum(k, union_hits) / size, dtype=pl.Float64)
            cols["oracle_select"] = pl.Series(
                np.maximum(
                    cols["recall_semantic"].to_numpy(), cols["recall_collaborative"].to_numpy()
                ),
                dtype=pl.Float64,
            )
        cols["user_class"] = pl.Series(
            _user_class(n_hits["semantic"] > 0, n_hits["collaborative"] > 0), dtype=pl.Utf8
        )
        frames.append(pl.DataFrame(cols))
    if not frames:
        return pl.DataFrame(schema={"user_id": pl.Utf8, "K": pl.Int64, "activity": pl.Int64})
    return pl.concat(frames)


def _union_hits(
    s: npt.NDArray[np.int64], c: npt.NDArray[np.int64], ev: EvalData
) -> npt.NDArray[np.int64]:
    """``|(R_S ∪ R_C) ∩ T_u|`` per user (as the oracle's ``union`` counts it)."""
    hs, hc = hit_matrix(s, ev), hit_matrix(c, ev)
    common = (hs & row_isin(s, c)).sum(axis=1)
    return np.asarray(hs.sum(axis=1) + hc.sum(axis=1) - common, dtype=np.int64)


def per_item_frame(ctx: Context, sections: Mapping[str, Section | None]) -> pl.DataFrame:
    """One row per item (index order): item_id, title, popularity, popularity_group,
    overlap@k / jaccard@k (overlap; null for items that were not queries), private energy
    (structure; the target view of --direction), probe_split and each capacity's per-item
    cosine and squared error of the mapped vector (probe)."""
    import polars as pl

    found = _sections(sections)
    n = ctx.views.n_items
    cols: dict[str, Any] = {"item_id": pl.Series(np.asarray(ctx.views.ids).astype(str))}
    titles = ctx.titles
    if titles is not None:
        cols["title"] = pl.Series(titles, dtype=pl.Utf8)
    if ctx.item_index is not None:
        cols["popularity"] = pl.Series(item_counts(ctx.item_index, n), dtype=pl.Int64)
        groups = ctx.item_groups
        if groups is not None:
            cols["popularity_group"] = pl.Series(
                [GROUPS[g] for g in groups.tolist()], dtype=pl.Utf8
            )
    if "overlap" in found:
        res = found["overlap"].result
        q = np.asarray(res.query_index)
        for k in sorted(res.per_item):
            inter = np.rint(np.asarray(res.per_item[k]) * k)
            overlap: list[float | None] = [None] * n
            jaccard: list[float | None] = [None] * n
            for i, ov, jac in zip(
                q.tolist(),
                res.per_item[k].tolist(),
                (inter / (2 * k - inter)).tolist(),
                strict=True,
            ):
                overlap[i], jaccard[i] = ov, jac
            cols[f"overlap@{k}"] = pl.Series(overlap, dtype=pl.Float64)
            cols[f"jaccard@{k}"] = pl.Series(jaccard, dtype=pl.Float64)
    if "structure" in found:
        res = found["structure"].result
        target = "collaborative" if res.direction == "sem2cf" else "semantic"
        cols[f"private_energy_{target}"] = pl.Series(np.asarray(res.energy), dtype=pl.Float64)
    if "probe" in found:
        cols.update(_probe_columns(found["probe"].result, n))
    return pl.DataFrame(cols)


def _probe_columns(res: Any, n: int) -> dict[str, pl.Series]:
    """probe_split (train / test / both for shift none / null: neither), and per capacity the
    cosine and squared error of each item's mapped vector."""
    import polars as pl

    split: list[str | None] = [None] * n
    train, test = set(res.shift.train.tolist()), set(res.shift.test.tolist())
    for i in range(n):
        if i in train and i in test:
            split[i] = "both"
        elif i in train:
            split[i] = "train"
        elif i in test:
            split[i] = "test"
    cols = {"probe_split": pl.Series(split, dtype=pl.Utf8)}
    for name, cap in res.capacities.items():
        if cap.item_cosine is not None:
            cols[f"probe_cosine_{name}"] = pl.Series(cap.item_cosine, dtype=pl.Float64)
            cols[f"probe_sq_error_{name}"] = pl.Series(cap.item_sq_error, dtype=pl.Float64)
    return cols


def export_files(ctx: Context, sections: Mapping[str, Section | None]) -> list[tuple[str, bytes]]:
    """The (target, bytes) pairs of --rankings, --run-dir, --per-user, --per-item as set."""
    settings = ctx.settings
    files: list[tuple[str, bytes]] = []
    rankings_path = settings.get("rankings")
    run_dir = settings.get("run_dir")
    found = _sections(sections)
    if (rankings_path is not None or run_dir is not None) and "align" in found:
        from complement.pipeline import align_exports

        result = found["align"].result
        frame = align_exports.align_rankings_frame(ctx, result)
        if rankings_path is not None:
            files.append((str(rankings_path), parquet_bytes(frame)))
        if run_dir is not None:
            files.extend(align_exports.align_run_files(ctx, result, str(run_dir), frame))
    elif rankings_path is not None or run_dir is not None:
        systems = ranked_systems(ctx, sections)
        if not systems:
            raise UsageError("--rankings / --run-dir: this run keeps no ranked lists to write")
        frame = rankings_frame(ctx, systems)
        if rankings_path is not None:
            files.append((str(rankings_path), parquet_bytes(frame)))
        if run_dir is not None:
            files.extend(run_files(str(run_dir), frame, qrels_frame(ctx)))
    per_user = settings.get("per_user")
    if per_user is not None:
        files.append((str(per_user), parquet_bytes(per_user_frame(ctx, sections))))
    per_item = settings.get("per_item")
    if per_item is not None:
        files.append((str(per_item), parquet_bytes(per_item_frame(ctx, sections))))
    return files


def section_map(*sections: Section) -> dict[str, Section | None]:
    """``{name: section}`` of a single command's section(s), for :func:`export_files`."""
    return {s.name: s for s in sections}
