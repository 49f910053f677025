"""complement: how a semantic and a collaborative view of the same items relate.

Start with :class:`Study`: the inputs (paths, numpy arrays or polars frames) and the options
of the command line as keywords, one method per diagnostic, each result with ``to_dict()``
equal to the matching command's ``--json`` document (apart from ``provenance``)::

    import complement as cm
    study = cm.Study.from_config("fixtures/movielens-100k/complement.toml")
    study.overlap(k=[10, 20]).to_dict()

Underneath, the diagnostics are plain functions over arrays (``item_overlap``,
``complement_hits``, ...), each returning a frozen dataclass with ``to_dict()``. Importing
this package is cheap: every name below is imported on first use (PEP 562), so ``import
complement`` (and ``complement --help``, whose module lives in this package) loads neither
numpy, polars, scipy nor torch; ``align`` (whose strategies are torch models) loads torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from complement._version import __version__

if TYPE_CHECKING:
    from complement.core.align import align
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

#: public name -> the module that defines it
_EXPORTS = {
    "ComplementError": "complement.errors",
    "Report": "complement.study",
    "Study": "complement.study",
    "align": "complement.core.align",
    "complement_hits": "complement.core.hits",
    "complement_oracle": "complement.core.oracle",
    "explain_item": "complement.core.explain",
    "get_backend": "complement.retrieval",
    "item_overlap": "complement.core.overlap",
    "join_views": "complement.io",
    "linear_cka": "complement.core.overlap",
    "load_embeddings": "complement.io",
    "load_interactions": "complement.io",
    "make_item_shift": "complement.core.shifts",
    "make_split": "complement.core.splits",
    "prepare_eval": "complement.core.evaluation",
    "run_probe": "complement.core.probe",
    "shared_structure": "complement.core.structure",
}

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
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'complement' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
