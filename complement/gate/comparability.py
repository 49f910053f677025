"""Whether two reports can be compared at all: the same evaluation, whatever the embeddings.

Two reports are comparable when everything that defines the evaluation is the same; the
embeddings themselves (and their files' hashes) may differ, since that is what the gate is
for. Compared, in this order (``provenance`` of a report, or a single command's document):

- ``schema``;
- the split (``provenance.split``, or a single document's ``split``): kind, cutoff and test
  fraction whenever both reports carry a split; the validation cutoff and fraction and the
  seed (recorded only for a split that depends on it, ``random``) when either carries one;
  the rows in each part (train, valid, test), which change with the log;
- the interaction log's content: the sha256 of each log file (``interactions``, or
  ``train`` and ``test`` for ``--split files``) under ``provenance.inputs``, when both carry it;
- the item universe: ``n_items``, and ``item_universe_sha256`` when both carry it;
- the similarity metric;
- the cut-offs k (``provenance.config.values.k``, or a single document's ``k`` keys);
- how each view's users are scored (the ``scoring`` of the ``hits`` and ``oracle`` sections,
  or a single document's ``scoring``: user embeddings by inner product, or the cosine to the
  mean of the history items), view by view, when both reports ran the section;
- the probe, when both reports ran it: its direction, its shift's kind and settings and its
  reference shift's (``tail_frac``, ``test_frac``, ``seed``, ``cutoff``,
  ``max_interactions``; not the counts that follow from them).

A property that neither report carries is skipped (one that only one carries differs, except
where said above). A NaN or infinite number among them is bad input (an InputError), never a
difference. Pure functions over parsed JSON.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from complement.errors import InputError
from complement.gate.paths import get

__all__ = ["Comparability", "check_comparable", "show_value"]

#: compared whenever both reports carry a split (also when both are null)
_SPLIT_ALWAYS = ("kind", "cutoff", "test_frac")
#: compared when either report records them (the seed only for a split that depends on it)
_SPLIT_SETTINGS = ("valid_cutoff", "valid_frac", "seed")
#: rows in each part of the split: they change with the log's content
_SPLIT_ROWS = ("n_train", "n_valid", "n_test")
#: the inputs that hold the interaction log (``--interactions``, or ``--train``/``--test``)
_LOG_ROLES = (("interactions", "interaction log"), ("train", "train log"), ("test", "test log"))
#: what a probe shift records that follows from its settings, the items and the log
_SHIFT_OUTCOMES = frozenset(
    {"kind", "n_train", "n_test", "max_test_count", "cutoff_source", "n_items_not_in_log"}
)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def show_value(value: Any) -> str:
    """A compared value in a one-line reason: null, a shortened sha256, lists joined."""
    if value is None:
        return "null"
    if isinstance(value, str) and _SHA256.fullmatch(value):
        return value[:12] + "…"
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return str(value)


def _split_of(doc: Any) -> Mapping[str, Any] | None:
    split = get(doc, "provenance", "split")
    if split is None:
        split = get(doc, "split")
    return split if isinstance(split, Mapping) else None


def _n_items(doc: Any) -> Any:
    for path in (("provenance", "n_items"), ("views", "n_items"), ("n_items",)):
        value = get(doc, *path)
        if value is not None:
            return value
    return None


def _metric(doc: Any) -> Any:
    value = get(doc, "provenance", "config", "values", "metric")
    return value if value is not None else get(doc, "metric")


def _k_list(doc: Any) -> Any:
    """The cut-offs: the resolved ``k`` option, else the keys of a single document's ``k``."""
    value = get(doc, "provenance", "config", "values", "k")
    if value is None:
        node = get(doc, "k")
        if isinstance(node, Mapping) and node:
            value = list(node)
    if isinstance(value, list):
        as_ints = [int(k) for k in value if isinstance(k, int) or str(k).isdigit()]
        if len(as_ints) == len(value):
            return sorted(set(as_ints))
    return value


def _scorings(doc: Any) -> dict[str, Mapping[str, Any]]:
    """``{label: {view: scoring}}``: the report's hits and oracle sections' ``scoring``, or a
    single document's (label ``""``)."""
    found = {}
    for label, node in (("hits ", get(doc, "hits")), ("oracle ", get(doc, "oracle")), ("", doc)):
        scoring = get(node, "scoring")
        if isinstance(scoring, Mapping):
            found[label] = scoring
    return found


def _probe_of(doc: Any) -> Mapping[str, Any] | None:
    """The probe's document (a report's ``probe`` section, or a ``complement.probe/1``)."""
    node = doc if get(doc, "schema") == "complement.probe/1" else get(doc, "probe")
    if isinstance(node, Mapping) and isinstance(node.get("shift"), Mapping):
        return node
    return None


def _check_finite(which: str, what: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _check_finite(which, what, item)
    elif isinstance(value, float) and not math.isfinite(value):
        # NaN never equals itself: it would read as "differs" (exit 3), not bad input
        raise InputError(
            f"gate: the {which} report's {what} is {value!r}, not a finite number "
            "(JSON has no NaN or infinity); give a report written by complement --json"
        )


@dataclass(frozen=True)
class Comparability:
    """One entry per compared property: ``{what, baseline, current, same}``."""

    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c["same"] for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [
            f"{c['what']} differs (baseline {show_value(c['baseline'])}, "
            f"current {show_value(c['current'])})"
            for c in self.checks
            if not c["same"]
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": self.checks}


def check_comparable(baseline: Any, current: Any) -> Comparability:
    """Every property that defines the evaluation (see the module docstring), in order."""
    checks: list[dict[str, Any]] = []

    def add(what: str, b: Any, c: Any, *, required: bool = False) -> None:
        _check_finite("baseline", what, b)
        _check_finite("current", what, c)
        if b is None and c is None and not required:
            return
        checks.append({"what": what, "baseline": b, "current": c, "same": b == c})

    add("schema", get(baseline, "schema"), get(current, "schema"), required=True)

    split_b, split_c = _split_of(baseline), _split_of(current)
    if split_b is None or split_c is None:
        # a report without a log has no split: the kind says which one has it
        add("split kind", get(split_b, "kind"), get(split_c, "kind"))
    else:
        for key in _SPLIT_ALWAYS:
            add(f"split {key}", split_b.get(key), split_c.get(key), required=True)
        for key in _SPLIT_SETTINGS:
            add(f"split {key}", split_b.get(key), split_c.get(key))
        rows_b = [split_b.get(key) for key in _SPLIT_ROWS]
        rows_c = [split_c.get(key) for key in _SPLIT_ROWS]
        if any(v is not None for v in rows_b + rows_c):
            add("split size in rows (train, valid, test)", rows_b, rows_c)

    for role, label in _LOG_ROLES:
        sha_b = get(baseline, "provenance", "inputs", role, "sha256")
        sha_c = get(current, "provenance", "inputs", role, "sha256")
        if sha_b is not None and sha_c is not None:
            add(f"{label} sha256", sha_b, sha_c)

    add("n_items", _n_items(baseline), _n_items(current))
    sha_b = get(baseline, "provenance", "item_universe_sha256")
    sha_c = get(current, "provenance", "item_universe_sha256")
    if sha_b is not None and sha_c is not None:
        add("item_universe_sha256", sha_b, sha_c)
    add("metric", _metric(baseline), _metric(current))
    add("k list", _k_list(baseline), _k_list(current))

    scoring_b, scoring_c = _scorings(baseline), _scorings(current)
    for label in (s for s in scoring_b if s in scoring_c):  # both ran the section
        views = dict.fromkeys([*scoring_b[label], *scoring_c[label]])
        for view in views:
            b, c = scoring_b[label].get(view), scoring_c[label].get(view)
            add(f"{label}scoring of {view}", b, c)

    probe_b, probe_c = _probe_of(baseline), _probe_of(current)
    if probe_b is not None and probe_c is not None:
        add("probe direction", probe_b.get("direction"), probe_c.get("direction"))
        for key, label in (("shift", "probe shift"), ("reference_shift", "probe reference shift")):
            shift_b, shift_c = probe_b.get(key), probe_c.get(key)
            if not isinstance(shift_b, Mapping) or not isinstance(shift_c, Mapping):
                # a reference shift recorded by one report only: the probe's layout changed
                if isinstance(shift_b, Mapping) or isinstance(shift_c, Mapping):
                    add(f"{label} kind", get(shift_b, "kind"), get(shift_c, "kind"))
                continue
            add(f"{label} kind", shift_b.get("kind"), shift_c.get("kind"), required=True)
            if shift_b.get("kind") != shift_c.get("kind"):
                continue  # their settings differ in kind too: the kind says it
            settings = [s for s in (*shift_b, *shift_c) if s not in _SHIFT_OUTCOMES]
            for setting in dict.fromkeys(settings):
                add(f"{label} {setting}", shift_b.get(setting), shift_c.get(setting))
    return Comparability(checks)
