"""complement: how a semantic and a collaborative view of the same items relate.

Start with :class:`Study`: the inputs (paths, numpy arrays or polars frames) and the options
of the command line as keywords, one method per diagnostic, each result with ``to_dict()``
equal to the matching command's ``--json`` document (apart from ``provenance``)::

    import complement as cm
    study = cm.Study.from_config("fixtures/movielens-100k/complement.toml")
    study.overlap(k=[10, 20]).to_dict()

Underneath, the diagnostics are plain functions over arrays (``item_overlap``,
``complement_hits``, ...), each returning a frozen dataclass with ``to_dict()``. Importing
this package never needs a GPU or an optional package, and does not load torch: ``align``
(whose strategies are torch models) is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from complement._version import __version__
from complement.core.evaluation import prepare_eval
from complement.core.explain import explain_item
from complement.core.hits import complement_hits
from complement.core.oracle import complement_oracle
from complement.core.overlap import item_overlap, linear_cka
from complement.core.probe import run_probe
from complement.core.shifts import make_item_shift
from complement.core.splits import make_split
from complement.core.structure import shared_structure
from complement.errors import ComplementError
from complement.io import join_views, load_embeddings, load_interactions
from complement.retrieval import get_backend
from complement.study import Report, Study

if TYPE_CHECKING:
    from complement.core.align import align

__all__ = [
    "ComplementError",
    "Report",
    "Study",
    "__version__",
    "align",
    "complement_hits",
    "complement_oracle",
    "explain_item",
    "get_backend",
    "item_overlap",
    "join_views",
    "linear_cka",
    "load_embeddings",
    "load_interactions",
    "make_item_shift",
    "make_split",
    "prepare_eval",
    "run_probe",
    "shared_structure",
]


def __getattr__(name: str) -> Any:
    if name == "align":
        from complement.core.align import align

        return align
    raise AttributeError(f"module 'complement' has no attribute {name!r}")
