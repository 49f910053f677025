"""The application layer: inputs loaded once, one runner per diagnostic, the report's assembly.

Used alike by the command line (:mod:`complement.cli`), the Python API
(:class:`complement.Study`) and ``complement report``. Each runner takes a :class:`Context` and
returns a :class:`Section`: the core result and the command's JSON document (without its
``provenance``, which :func:`with_provenance` adds for a single command and the report hoists
to its top level). Nothing here prints or parses options.
"""

from __future__ import annotations

from complement.pipeline.context import Context, Evaluation, load_context
from complement.pipeline.provenance import provenance, with_provenance
from complement.pipeline.section import Section, Skip

__all__ = [
    "Context",
    "Evaluation",
    "Section",
    "Skip",
    "load_context",
    "provenance",
    "with_provenance",
]
