"""What a runner returns: the core result and its JSON document, without provenance."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from complement.errors import ComplementError
from complement.io.jsonio import document

__all__ = ["Section", "Skip", "make_section"]


class Skip(ComplementError):
    """A diagnostic cannot run with the inputs given; the message says which one is missing.

    ``complement report`` records such a section as not run; a single command exits 2.
    """


@dataclass(frozen=True, repr=False)
class Section:
    """One diagnostic's outcome.

    ``name`` is the command (``overlap``, ``hits``, ...), ``result`` the core result object
    (frozen dataclass with arrays), ``doc`` the command's JSON document apart from
    ``provenance``: what ``complement NAME --json`` writes, and what ``complement report``
    holds under ``NAME``.
    """

    name: str
    result: Any
    doc: dict[str, Any]
    #: where the result came from (set by the front ends; None until then)
    provenance: dict[str, Any] | None = None

    @property
    def schema(self) -> str:
        return str(self.doc["schema"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON document without ``provenance``: a deep copy, which the caller may change."""
        return copy.deepcopy(self.doc)

    def document(self) -> dict[str, Any]:
        """The whole document, as ``complement <name> --json`` writes it (a deep copy)."""
        if self.provenance is None:
            return self.to_dict()
        return copy.deepcopy({**self.doc, "provenance": self.provenance})

    def __repr__(self) -> str:
        """One line (the document and the result's arrays are not shown)."""
        result = type(self.result).__name__
        given = "with provenance" if self.provenance is not None else "no provenance"
        return (
            f"Section({self.name!r}, schema={self.doc.get('schema')!r}, result={result}, {given})"
        )


def make_section(name: str, result: Any, body: dict[str, Any], **parts: Any) -> Section:
    """``complement.<name>/1``: schema, version, the result's body, then the other parts."""
    return Section(name, result, document(f"complement.{name}/1", body, **parts))
