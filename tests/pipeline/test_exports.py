"""The export tables built from sections and the context (no CLI, no files)."""

from __future__ import annotations

import io
import math

import numpy as np
import polars as pl
import pytest

from tests.conftest import FIXTURE

CONFIG = FIXTURE / "complement.toml"


def test_run_scores_strictly_decreasing_and_order_kept():
    from complement.io.tables_out import run_scores

    users = ["a", "a", "a", "a", "b", "b"]
    scores = [0.9, 0.5, 0.5, 0.5, 0.5, float("nan")]
    out = run_scores(users, scores, [1, 2, 3, 4, 1, 2])
    assert out[0] == 0.9 and out[1] == 0.5
    assert out[1] > out[2] > out[3]
    assert out[3] == pytest.approx(0.5, abs=1e-15)
    assert out[4] == 0.5  # a new user starts afresh
    assert out[5] == -2.0  # NaN: -rank


def test_trec_text_and_parquet_round_trip():
    from complement.io.tables_out import parquet_bytes, qrels_text, trec_run_text

    frame = pl.DataFrame(
        {"user_id": ["u1", "u1"], "rank": [1, 2], "item_id": ["i9", "i3"], "score": [0.25, 0.125]}
    )
    text = trec_run_text(frame, "semantic").decode()
    assert text == "u1 Q0 i9 1 0.25 semantic\nu1 Q0 i3 2 0.125 semantic\n"
    assert qrels_text(frame).decode() == "u1 0 i9 1\nu1 0 i3 1\n"
    assert pl.read_parquet(io.BytesIO(parquet_bytes(frame))).equals(frame)
    with pytest.raises(ValueError):
        trec_run_text(frame, "two words")


@pytest.fixture(scope="module")
def oracle_ctx():
    from complement.config import resolve
    from complement.pipeline import load_context
    from complement.pipeline.oracle import run_oracle

    settings = resolve("oracle", {"device": "cpu", "n_boot": 50, "k": "5,20"}, config=CONFIG)
    ctx = load_context(settings, None, need_split=True)
    from complement.retrieval import get_backend

    ctx.backend = get_backend("cpu")
    return ctx, run_oracle(ctx)


def test_ranked_systems_match_the_oracle(oracle_ctx):
    from complement.core.metrics import evaluate_lists
    from complement.pipeline.exports import ranked_systems

    ctx, section = oracle_ctx
    ev = ctx.evaluation.test
    systems = ranked_systems(ctx, {"oracle": section})
    assert set(systems) == {
        "semantic",
        "collaborative",
        "concat_fixed",
        "score_interpolation",
        "gated",
        "rrf",
        "oracle_select",
    }
    row = section.doc["k"]["20"]
    for name, ranked in systems.items():
        assert ranked.lists.shape == (ev.n_users, 20) == ranked.scores.shape
        assert np.isfinite(ranked.scores[ranked.lists >= 0]).all()
        assert (np.diff(ranked.scores, axis=1) <= 0).all()
        recall = float(evaluate_lists(ranked.lists, ev, [20])[20].recall.mean())
        expected = (
            row["recall"].get(name)
            if name in row["recall"]
            else row["oracle"]["select"]
            if name == "oracle_select"
            else row["fusion"][name]["recall"]
        )
        assert recall == pytest.approx(expected, abs=1e-12)
    select = systems["oracle_select"].lists
    same_s = (select == systems["semantic"].lists).all(axis=1)
    same_c = (select == systems["collaborative"].lists).all(axis=1)
    assert (same_s | same_c).all()


def test_hits_reusing_the_oracle_lists_gives_the_same_rankings(oracle_ctx):
    from complement.pipeline.exports import ranked_systems, rankings_frame
    from complement.pipeline.hits import run_hits

    ctx, oracle = oracle_ctx
    hits = run_hits(ctx)  # reuses ctx.view_lists (as complement report does)
    from_hits = rankings_frame(ctx, ranked_systems(ctx, {"hits": hits}))
    from_oracle = rankings_frame(ctx, ranked_systems(ctx, {"oracle": oracle, "hits": hits}))
    views = from_oracle.filter(pl.col("system").is_in(["semantic", "collaborative"]))
    assert from_hits.drop("score").equals(views.drop("score"))
    assert from_hits["score"].is_nan().all()  # the reused lists carry no scores
    assert views["score"].is_finite().all()


def test_per_user_frame_user_ids_are_the_log_ids(oracle_ctx):
    from complement.pipeline.exports import per_user_frame

    ctx, section = oracle_ctx
    table = per_user_frame(ctx, {"oracle": section})
    log, _ = ctx.require_log()
    assert set(table["user_id"]) <= {str(u) for u in log.user_ids}
    assert table.height == 2 * ctx.evaluation.test.n_users
    assert set(table["user_class"]) <= {"both", "semantic", "collaborative", "none"}
    hit_s, hit_c = table["hit_semantic"], table["hit_collaborative"]
    both = (hit_s & hit_c).sum()
    assert both == (table["user_class"] == "both").sum()
    assert (hit_s & ~hit_c).sum() == (table["user_class"] == "semantic").sum()
    assert (~hit_s & ~hit_c).sum() == (table["user_class"] == "none").sum()
    assert not math.isnan(table["oracle_union"].mean())
    assert (table["oracle_budget"] <= table["oracle_union"]).all()
    assert (table["oracle_select"] <= table["oracle_budget"] + 1e-12).all()
