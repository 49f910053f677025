"""Finding the item named on the command line (``complement explain ITEM``)."""

from __future__ import annotations

import numpy as np
import pytest

from complement.errors import UsageError
from complement.io.embeddings import Embeddings
from complement.io.items import ItemTitles
from complement.io.lookup import find_item, id_forms
from complement.io.views import Views


def _views(ids: list[str], *, only_sem: int = 0, only_cf: int = 0, dropped: int = 0) -> Views:
    n = len(ids)
    return Views(
        ids=np.asarray(ids, dtype=str),
        sem=np.ones((n, 2), np.float32),
        cf=np.ones((n, 2), np.float32),
        metric="cosine",
        only_semantic=only_sem,
        only_collaborative=only_cf,
        dropped={"total": dropped},
    )


def _emb(role: str, ids: list[str], matrix: np.ndarray | None = None) -> Embeddings:
    m = np.ones((len(ids), 2), np.float32) if matrix is None else matrix
    return Embeddings(f"{role[:3]}.npy", role, np.asarray(ids, dtype=str), m)


META = ItemTitles(
    "items.csv",
    np.asarray(["1", "2", "3", "4", "330"]),
    np.asarray(["Toy Story", "Heat", "Toy Story 2", "Nixon", "2"]),
)


def test_id_forms_follow_the_id_rule():
    assert id_forms("7") == ["7"]
    assert id_forms(" 7.0 ") == ["7.0", "7"]
    assert id_forms("7.") == ["7.", "7"]
    assert id_forms("-3.00") == ["-3.00", "-3"]
    assert id_forms("7.5") == ["7.5"] and id_forms("007.0") == ["007.0"]
    assert id_forms("1e3") == ["1e3"] and id_forms("abc") == ["abc"]


def test_an_id_written_as_a_decimal_is_the_integer_id_unless_written_so_in_the_views():
    views = _views(["1", "2", "3"])
    assert find_item("2.0", views, None).index == 1
    assert find_item("2.", views, None).index == 1
    text_ids = _views(["2", "2.0"])  # text ids: as written first
    assert find_item("2.0", text_ids, None).index == 1
    with pytest.raises(UsageError, match="'2.5' is not an id of the views"):
        find_item("2.5", views, None)


def test_an_id_that_is_also_a_title_is_taken_as_the_id_with_a_note():
    views = _views(["1", "2", "3", "4", "330"])
    found = find_item("2", views, META)
    assert found.index == 1
    assert found.note == (
        "'2' was taken as the id 2; it is also the title of id 330 ('2'): give 330 to explain "
        "that item"
    )
    assert find_item("330", views, META).note is None
    assert find_item("Heat", views, META).note is None
    # a title of an item the views lack: noted, with no id to give
    assert find_item("2", _views(["1", "2"]), META).note == (
        "'2' was taken as the id 2; it is also the title of id 330 ('2')"
    )


def test_an_item_in_one_view_only_is_said_so_by_id_and_by_title():
    views = _views(["2", "3", "4"], only_cf=1)
    loads = []

    def raw():
        loads.append(1)
        return _emb("semantic", ["2", "3", "4"]), _emb("collaborative", ["1", "2", "3", "4"])

    for text in ("1", "1.0", "Toy Story", "TOY STORY"):
        with pytest.raises(UsageError) as info:
            find_item(text, views, META, raw)
        message = str(info.value)
        assert message.startswith(f"item {text!r}: id 1 ('Toy Story') is only in the ")
        assert "collaborative view (col.npy; not in sem.npy)" in message
        assert "so it has no neighbours in both views" in message
    # an item of the joined views never reads the views again
    loads.clear()
    assert find_item("Heat", views, META, raw).index == 0
    assert find_item("3", views, META, raw).index == 1 and loads == [1]  # "Heat": not an id


def test_a_dropped_item_says_why():
    views = _views(["1", "3"], dropped=1)
    cf = np.ones((3, 2), np.float32)
    cf[1] = 0.0

    def raw():
        return _emb("semantic", ["1", "2", "3"]), _emb("collaborative", ["1", "2", "3"], cf)

    with pytest.raises(UsageError) as info:
        find_item("Heat", views, META, raw)
    assert "id 2 ('Heat') was dropped as invalid by --drop-invalid (its collaborative row in " \
        "col.npy is all zeros)" in str(info.value)  # fmt: skip


def test_titles_of_items_outside_the_views():
    complete = _views(["2", "4"])  # every item of either view is joined: no need to read them
    with pytest.raises(UsageError, match=r"item 'Toy Story': id 1 \('Toy Story'\) is in neither "
                       "view"):  # fmt: skip
        find_item("Toy Story", complete, META)
    with pytest.raises(UsageError) as info:
        find_item("toy", complete, META)
    message = str(info.value)
    assert "matches 2 titles in items.csv, none of an item both views hold" in message
    assert "id 1 ('Toy Story') is in neither view; id 3 ('Toy Story 2') is in neither" in message
    with pytest.raises(UsageError, match="neither an id nor a title in items.csv"):
        find_item("Casablanca", complete, META)
    # a title matching one joined item and one outside: the joined one is meant
    assert find_item("toy", _views(["3"]), META).index == 0
