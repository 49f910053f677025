"""Tables and run files as bytes, in memory: parquet (via polars/pyarrow) and TREC text.

Nothing here touches the file system: the bytes go to :class:`complement.io.writer.OutputSet`
with the run's other outputs, so that every output of a run is written as one set.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "RUN_COLUMNS",
    "parquet_bytes",
    "qrels_text",
    "ranking_schema",
    "run_scores",
    "trec_run_text",
]

#: the columns a rankings frame must have to be written as a TREC run
RUN_COLUMNS = ("user_id", "rank", "item_id", "score")


def ranking_schema() -> dict[str, Any]:
    """The columns of a rankings table (``--rankings``) and their polars dtypes (a function:
    polars loads only when a table is built)."""
    import polars as pl

    return {
        "system": pl.Utf8,
        "user_id": pl.Utf8,
        "rank": pl.Int64,
        "item_id": pl.Utf8,
        "score": pl.Float64,
        "hit": pl.Boolean,
    }


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as one parquet file (zstd), in memory."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    return buffer.getvalue()


def run_scores(users: list[str], scores: list[float], ranks: list[int]) -> list[float]:
    """Scores as a TREC run holds them: strictly decreasing within each user's list.

    Tools that read a run order each query's items by score (the rank column is ignored), and
    break ties their own way. A score that does not fall below the one written before it (a tie,
    ranked by lower item index) is written as the next float64 below that one, a few units in
    the last place, so every reader sees exactly the list's order. A missing (NaN) or infinite
    score is written as ``-rank``. The exact scores are in ``--rankings``.
    """
    out: list[float] = []
    previous_user: str | None = None
    previous = math.inf
    for user, score, rank in zip(users, scores, ranks, strict=True):
        value = float(score) if math.isfinite(score) else -float(rank)
        if user == previous_user and value >= previous:
            value = math.nextafter(previous, -math.inf)
        out.append(value)
        previous_user, previous = user, value
    return out


def trec_run_text(frame: pl.DataFrame, tag: str) -> bytes:
    """``user_id Q0 item_id rank score tag`` per row, in the frame's order (one system).

    Rows of one user must be consecutive and in rank order. Scores go through
    :func:`run_scores` and are written with full float64 precision (``repr``).
    """
    missing = [c for c in RUN_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"run frame lacks columns {missing}")
    if any(ch.isspace() for ch in tag) or not tag:
        raise ValueError(f"run tag {tag!r} must be one word")
    users = frame["user_id"].to_list()
    ranks = frame["rank"].to_list()
    scores = run_scores(users, frame["score"].to_list(), ranks)
    lines = [
        f"{user} Q0 {item} {rank} {score!r} {tag}\n"
        for user, rank, item, score in zip(
            users, ranks, frame["item_id"].to_list(), scores, strict=True
        )
    ]
    return "".join(lines).encode("utf-8")


def qrels_text(frame: pl.DataFrame) -> bytes:
    """``user_id 0 item_id 1`` per row of a (``user_id``, ``item_id``) frame."""
    lines = [
        f"{user} 0 {item} 1\n"
        for user, item in zip(frame["user_id"].to_list(), frame["item_id"].to_list(), strict=True)
    ]
    return "".join(lines).encode("utf-8")
