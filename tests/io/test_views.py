"""Joining two views: no silent misjoin of positional and real ids, or of ids that do not match."""

from __future__ import annotations

import numpy as np
import pytest

from complement.errors import InputError, UsageError
from complement.io import Embeddings, join_views

RNG = np.random.default_rng(0)


def view(ids: list[object] | np.ndarray | None, n: int = 40, role: str = "semantic") -> Embeddings:
    """A view of ``n`` random rows; ``ids=None`` means positional ids (a bare .npy)."""
    matrix = RNG.standard_normal((n, 4)).astype(np.float32)
    if ids is None:
        return Embeddings(
            path=f"{role[:3]}.npy",
            role=role,
            ids=np.arange(n).astype(str),
            matrix=matrix,
            ids_from_rows=True,
        )
    return Embeddings(
        path=f"{role[:3]}.parquet", role=role, ids=np.asarray(ids).astype(str), matrix=matrix
    )


def test_new_field_has_a_default():
    e = Embeddings(path="x", role="semantic", ids=np.array(["1", "2"]), matrix=np.ones((2, 2)))
    assert e.ids_from_rows is False and e.positional_ids is False


def test_two_positional_views_join_row_by_row():
    a, b = view(None), view(None, role="collaborative")
    v = join_views(a, b)
    assert v.ids.tolist() == [str(i) for i in range(40)]
    np.testing.assert_array_equal(v.sem, a.matrix)
    np.testing.assert_array_equal(v.cf, b.matrix)


def test_positional_against_real_ids_is_refused_off_by_one_named():
    sem = view(np.arange(1, 41))  # MovieLens: ids start at 1
    cf = view(None, role="collaborative")  # a bare .npy: rows 0..39
    with pytest.raises(InputError) as info:
        join_views(sem, cf)
    msg = str(info.value)
    assert "\n" not in msg
    for part in (
        "col.npy has no ids",
        "semantic ids 1..40",
        "collaborative row numbers 0..39",
        "shifted by one",
        "--cf-ids",
        "--positional-ids",
    ):
        assert part in msg, (part, msg)


def test_positional_ids_flag_allows_the_join():
    sem = view(np.arange(40))
    cf = view(None, role="collaborative")
    v = join_views(sem, cf, positional_ids=True)
    assert v.n_items == 40
    np.testing.assert_array_equal(v.cf, cf.matrix)
    with pytest.raises(InputError, match="--sem-ids"):  # the other side without ids
        join_views(view(None), view(np.arange(40), role="collaborative"))


def test_too_few_shared_items_is_refused_unless_min_shared_allows():
    sem = view(np.arange(40))
    cf = view(np.arange(25, 65), role="collaborative")  # 15 of 40 shared
    with pytest.raises(InputError) as info:
        join_views(sem, cf)
    msg = str(info.value)
    for part in (
        "share only 15 item ids",
        "38%",
        "semantic ids 0..39",
        "collaborative ids 25..64",
        "--min-shared 0.37",
        "--sem-ids / --cf-ids",
    ):
        assert part in msg, (part, msg)
    v = join_views(sem, cf, min_shared=0.3)
    assert v.ids.tolist() == [str(i) for i in range(25, 40)]
    assert join_views(sem, cf, min_shared=0).n_items == 15
    assert join_views(sem, view(np.arange(20, 60), role="collaborative")).n_items == 20  # half


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_min_shared_out_of_range(bad):
    with pytest.raises(UsageError, match="--min-shared"):
        join_views(view(None), view(None, role="collaborative"), min_shared=bad)


@pytest.mark.parametrize(
    ("cf_ids", "found"),
    [
        ([f"{i}.0" for i in range(40)], "'1.0'"),
        ([f"{i:03d}" for i in range(40)], "'001'"),
    ],
)
def test_int_like_against_text_ids_is_named(cf_ids, found):
    sem = view(np.arange(40))
    cf = view(cf_ids, role="collaborative")
    with pytest.raises(InputError) as info:
        join_views(sem, cf)
    msg = str(info.value)
    assert "the ids match once written alike" in msg and found in msg, msg
    assert "write them the same way" in msg


def test_shift_of_any_size_is_named():
    with pytest.raises(InputError) as info:
        join_views(view(np.arange(40)), view(np.arange(1000, 1040), role="collaborative"))
    msg = str(info.value)
    assert "share 0 item ids" in msg and "shifted by 1000" in msg, msg
    assert "collaborative ids 1000..1039" in msg


def test_no_shift_claimed_for_unrelated_ids():
    sem = view([f"a{i}" for i in range(40)])
    cf = view([f"b{i}" for i in range(40)], role="collaborative")
    with pytest.raises(InputError) as info:
        join_views(sem, cf)
    msg = str(info.value)
    assert "shifted" not in msg and "written alike" not in msg
    assert "semantic ids a0..a9" in msg or "semantic ids a0" in msg, msg


def test_matching_ids_join_as_before():
    """Both views with ids: the join is the same as it always was (sorted shared ids)."""
    ids = np.array([5, 3, 9, 1, 7, 2])
    sem = view(ids, n=6)
    perm = np.array([3, 0, 5, 1, 4, 2])
    cf = Embeddings(
        path="cf.npz", role="collaborative", ids=ids[perm].astype(str), matrix=sem.matrix[perm]
    )
    v = join_views(sem, cf)
    assert v.ids.tolist() == ["1", "2", "3", "5", "7", "9"]
    np.testing.assert_array_equal(v.sem, v.cf)
    assert (v.only_semantic, v.only_collaborative) == (0, 0)


def _users(n: int, ids: list[object] | None = None) -> Embeddings:
    matrix = RNG.standard_normal((n, 4)).astype(np.float32)
    if ids is None:
        return Embeddings(
            path="users.npy",
            role="collaborative users",
            ids=np.arange(n).astype(str),
            matrix=matrix,
            ids_from_rows=True,
        )
    return Embeddings(
        path="users.npy", role="collaborative users", ids=np.asarray(ids).astype(str), matrix=matrix
    )


def _align(emb: Embeddings, log_ids: np.ndarray, **kwargs):
    from complement.io.users import align_user_vectors

    return align_user_vectors(
        emb,
        np.sort(np.asarray(log_ids).astype(str)),
        item_dim=4,
        item_path="cf.npy",
        option="cf",
        max_missing=None,
        **kwargs,
    )


def test_user_vectors_without_ids_against_shifted_log_ids_are_refused():
    with pytest.raises(InputError) as info:
        _align(_users(30), np.arange(1, 31))  # the log's users are 1..30, rows 0..29
    msg = str(info.value)
    assert "\n" not in msg
    for part in (
        "collaborative users embeddings users.npy: has no ids (its rows are numbered 0..29)",
        "look shifted by one",
        "30 of the log's 30 users match if row i is user id i+1, 29 as given",
        "--cf-users-ids",
        "--positional-ids",
    ):
        assert part in msg, (part, msg)
    with pytest.raises(InputError, match="shifted by 1000"):
        _align(_users(30), np.arange(1000, 1030))
    aligned = _align(_users(30), np.arange(1, 31), positional_ids=True)  # the user says so
    assert aligned.have.sum() == 29


def test_user_vectors_without_ids_that_match_the_log_are_aligned():
    users = _users(31)  # RecBole-style: row 0 pads, users 1..30 are rows 1..30
    aligned = _align(users, np.arange(1, 31))
    assert aligned.have.all()
    log_ids = np.sort(np.arange(1, 31).astype(str))
    np.testing.assert_array_equal(aligned.vectors, users.matrix[log_ids.astype(int)])
    assert _align(_users(30), np.arange(30)).have.all()  # rows 0..29, users 0..29
    assert _align(_users(30), ["a", "b"] + list(range(28))).have.sum() == 28  # text ids: no shift
    assert _align(_users(30, list(range(1, 31))), np.arange(1, 31)).have.all()  # with ids
