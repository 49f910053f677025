"""Find an item named on the command line: by its id in the views, else by its title.

An id is matched as written, or, when that is no id of the views, as the integer that a
decimal with a zero fraction writes (``7.0`` or ``7.`` is the id ``7``): the documented id
rule, under which ``7``, ``7.0`` and ``"7"`` are one id (a command-line argument is text, so
the number it writes decides). A text that is an id of the views is that item even when it is
also a title; the :class:`Located` note then says so.

An item the joined views do not hold is explained, not called unknown: it may be in only one
view, or have been left out by ``--drop-invalid``; the ids of each view before the join are
read (``raw``) only to say which.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from complement.errors import UsageError
from complement.io.embeddings import Embeddings
from complement.io.items import ItemTitles
from complement.io.views import Views, map_ids, row_status

__all__ = ["Located", "RawViews", "find_item", "id_forms"]

#: the two views before the join (semantic, collaborative), read on demand
RawViews = Callable[[], tuple[Embeddings, Embeddings]]

#: an integer written as a decimal with a zero fraction: "7.0", "-3.", "12.000"
_DECIMAL_INT = re.compile(r"-?(0|[1-9]\d*)\.0*")


@dataclass(frozen=True)
class Located:
    """The item index found, and a note when the text could also name another item."""

    index: int
    note: str | None = None


def id_forms(text: str) -> list[str]:
    """The ids ``text`` may write: itself (stripped), then the integer of ``7.0`` if it is one."""
    ident = text.strip()  # as canonical ids keep text
    forms = [ident]
    if _DECIMAL_INT.fullmatch(ident):
        forms.append(str(int(ident.split(".", 1)[0])))
    return forms


def _exact_titles(meta: ItemTitles, text: str) -> npt.NDArray[np.str_]:
    """Ids whose title is ``text`` (case-insensitive, whole title)."""
    return np.asarray(meta.ids[np.char.lower(meta.titles) == text.strip().lower()], dtype=str)


def _named(ident: str, meta: ItemTitles | None) -> str:
    title = None if meta is None else meta.lookup(np.asarray([ident]))[0]
    return f"id {ident}" + (f" ({title!r})" if title else "")


def _whereabouts(ident: str, views: Views, raw: tuple[Embeddings, Embeddings]) -> str | None:
    """Why the id is not an item of the joined views, or None when no view has it."""
    sem, cf = raw
    rows = {e.role: int(map_ids(e.ids, np.asarray([ident]))[0]) for e in (sem, cf)}
    s_row, c_row = rows["semantic"], rows["collaborative"]
    if s_row < 0 and c_row < 0:
        return None
    if s_row < 0:
        return f"is only in the collaborative view ({cf.path}; not in {sem.path})"
    if c_row < 0:
        return f"is only in the semantic view ({sem.path}; not in {cf.path})"
    bad = []
    for emb, row in ((sem, s_row), (cf, c_row)):
        nonfinite, zero = row_status(emb.matrix[row : row + 1], views.metric)
        if nonfinite[0]:
            bad.append(f"its {emb.role} row in {emb.path} has NaN or infinite values")
        elif zero[0]:  # all zeros, or (under cosine) a norm too small to normalise
            small = "is all zeros" if not np.any(emb.matrix[row]) else "has too small a norm"
            bad.append(f"its {emb.role} row in {emb.path} {small}")
    why = f" ({'; '.join(bad)})" if bad else ""
    return f"was dropped as invalid by --drop-invalid{why}"


def _outside(
    text: str, ident: str, why: str, meta: ItemTitles | None, view_ids: npt.NDArray[np.str_]
) -> UsageError:
    also = ""
    if meta is not None:
        titled = _exact_titles(meta, text)
        titled = titled[map_ids(view_ids, titled) >= 0]
        if titled.size:
            also = f"; {text!r} is also the title of {_named(str(titled[0]), meta)}: give that id"
    return UsageError(
        f"item {text!r}: {_named(ident, meta)} {why}, so it has no neighbours in both views; "
        f"explain an item that both views hold{also}"
    )


def find_item(
    text: str, views: Views, meta: ItemTitles | None, raw: RawViews | None = None
) -> Located:
    """Item index of ``text``: an id of the views, else a unique title match in ``meta``.

    ``raw`` gives the two views before the join; when the joined views lack items (only in
    one view, or dropped by ``--drop-invalid``), an id or title of such an item is refused with
    that reason instead of as unknown.
    """
    view_ids = views.ids
    forms = id_forms(text)
    if not forms[0]:
        raise UsageError(f"item {text!r} is empty; give an item id, or a title with --items")
    for ident in forms:
        pos = int(map_ids(view_ids, np.asarray([ident]))[0])
        if pos >= 0:
            return Located(pos, _also_title(text, ident, meta, view_ids))
    outside = views.only_semantic + views.only_collaborative + int(views.dropped.get("total", 0))
    loaded = raw() if raw is not None and outside > 0 else None
    if loaded is not None:
        for ident in forms:
            why = _whereabouts(ident, views, loaded)
            if why is not None:
                raise _outside(text, ident, why, meta, view_ids)
    if meta is None:
        raise UsageError(
            f"item {text!r} is not an id of the views ({view_ids.shape[0]} items); give an item "
            "id, or --items METADATA to look it up by title"
        )
    found = meta.find(text)
    joined = found[map_ids(view_ids, found) >= 0]
    if joined.size == 1:
        return Located(int(map_ids(view_ids, joined)[0]))
    if joined.size > 1:
        names = "; ".join(
            f"{i} {t}" for i, t in zip(joined[:5], meta.lookup(joined[:5]), strict=True)
        )
        more = "; ..." if joined.size > 5 else ""
        raise UsageError(
            f"item {text!r} matches {joined.size} titles ({names}{more}); give the item id"
        )
    if found.size:
        raise _not_held(text, found, views, meta, loaded)
    raise UsageError(
        f"item {text!r} is neither an id nor a title in {meta.path}; give an item id, "
        "or a title or a part of one found in a single title there (case is ignored)"
    )


def _not_held(
    text: str,
    found: npt.NDArray[np.str_],
    views: Views,
    meta: ItemTitles,
    loaded: tuple[Embeddings, Embeddings] | None,
) -> UsageError:
    """The refusal of a title whose items the joined views lack, saying where each one is."""
    complete = views.only_semantic + views.only_collaborative + views.dropped.get("total", 0) == 0
    reasons = []
    for ident in found[:5].tolist():
        why = None if loaded is None else _whereabouts(ident, views, loaded)
        if why is None:  # known only when the views before the join were read, or all joined
            why = "is in neither view" if loaded is not None or complete else "is not in both views"
        reasons.append((ident, why))
    if found.size == 1:
        return _outside(text, *reasons[0], meta, views.ids)
    listed = "; ".join(f"{_named(i, meta)} {why}" for i, why in reasons)
    more = "; ..." if found.size > 5 else ""
    return UsageError(
        f"item {text!r} matches {found.size} titles in {meta.path}, none of an item both views "
        f"hold ({listed}{more}), so none has neighbours in both views; explain an item that "
        "both views hold"
    )


def _also_title(
    text: str, ident: str, meta: ItemTitles | None, view_ids: npt.NDArray[np.str_]
) -> str | None:
    """A note when ``text``, taken as the id ``ident``, is also another item's exact title."""
    if meta is None:
        return None
    titled = [i for i in _exact_titles(meta, text).tolist() if i != ident]
    if not titled:
        return None
    other = titled[0]
    held = int(map_ids(view_ids, np.asarray([other]))[0]) >= 0
    more = f" (and {len(titled) - 1} more)" if len(titled) > 1 else ""
    return (
        f"{text!r} was taken as the id {ident}; it is also the title of {_named(other, meta)}"
        f"{more}" + (f": give {other} to explain that item" if held else "")
    )
