"""Find an item named on the command line: by its id in the views, else by its title."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from complement.errors import UsageError
from complement.io.embeddings import canonical_ids
from complement.io.items import ItemTitles
from complement.io.views import map_ids

__all__ = ["find_item"]


def find_item(text: str, view_ids: npt.NDArray[np.str_], meta: ItemTitles | None) -> int:
    """Item index of ``text``: an id of the views, else a unique title match in ``meta``."""
    pos = int(map_ids(view_ids, canonical_ids(np.asarray([text]), "ITEM"))[0])
    if pos >= 0:
        return pos
    if meta is None:
        raise UsageError(
            f"item {text!r} is not an id of the views ({view_ids.shape[0]} items); give an item "
            "id, or --items METADATA to look it up by title"
        )
    found = meta.find(text)
    found = found[map_ids(view_ids, found) >= 0]
    if found.size == 0:
        raise UsageError(
            f"item {text!r} is neither an id nor a title in {meta.path}; give an item id, "
            "or a title exactly as it appears there"
        )
    if found.size > 1:
        names = "; ".join(
            f"{i} {t}" for i, t in zip(found[:5], meta.lookup(found[:5]), strict=True)
        )
        more = "; ..." if found.size > 5 else ""
        raise UsageError(
            f"item {text!r} matches {found.size} titles ({names}{more}); give the item id"
        )
    return int(map_ids(view_ids, found)[0])
