"""The Python API: :class:`Study`, the same diagnostics as the command line, in one object.

``Study`` takes the command line's inputs and options as keyword arguments (the option names
with underscores: ``cutoff=``, ``drop_invalid=``, ``test_frac=``, ``cf_users=``,
``n_boot=`` ...), with the same defaults and the same config file (``Study.from_config``).
Inputs may be paths, numpy arrays (embeddings, ids) or polars frames (interaction logs). The
inputs are loaded once, on first use, and shared by every method; the device is resolved once.
Each method returns a :class:`~complement.pipeline.Section` whose ``to_dict()`` equals the
matching command's ``--json`` document apart from its ``provenance``; :meth:`Study.report`
returns a :class:`Report` that writes the JSON, HTML and Markdown of ``complement report``.
"""

from __future__ import annotations

import copy
import difflib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from complement.config import COMMANDS, DATA_KEYS, OPTIONS, OUTPUT_OPTIONS, Settings, resolve
from complement.io.jsonio import write_json
from complement.io.sources import InMemory
from complement.pipeline import Context, Section, load_context, provenance
from complement.pipeline.align import run_align
from complement.pipeline.compare import compare_provenance, run_compare
from complement.pipeline.context import log_given
from complement.pipeline.engine import backend_for
from complement.pipeline.explain import run_explain
from complement.pipeline.hits import run_hits
from complement.pipeline.many import load_many
from complement.pipeline.oracle import run_oracle
from complement.pipeline.overlap import run_overlap
from complement.pipeline.probe import capacities_of, run_probe
from complement.pipeline.report import build_report
from complement.pipeline.structure import run_structure
from complement.retrieval import Backend

__all__ = ["Report", "Study"]

#: settings that decide what is loaded (the views, the log, user vectors, titles)
_LOAD_KEYS = (
    *DATA_KEYS,
    "metric",
    "drop_invalid",
    "user_col",
    "item_col",
    "time_col",
    "title_col",
    "max_missing",
)


def _signature(settings: Settings, need_split: bool) -> dict[str, Any]:
    """What ``load_context`` reads of ``settings``, as it reads it."""
    values = settings.values
    sig = {n: values[n] for n in _LOAD_KEYS if n in values}
    if need_split:
        sig.update(
            split=values.get("split"),
            test_frac=values.get("test_frac"),
            cutoff=values.get("cutoff"),
            valid_frac=values.get("valid_frac", 0.0) or 0.0,
            seed=values.get("seed"),
        )
    return sig


#: options that only name output files or the console: not arguments of the API
_NOT_API = (*OUTPUT_OPTIONS, "quiet")
_KNOWN = {n for names in COMMANDS.values() for n in names} - set(_NOT_API)


def _unknown(name: str, known: set[str], where: str) -> TypeError:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return TypeError(f"{where} got an unexpected keyword argument {name!r}{hint}")


def _plain(name: str, value: Any) -> Any:
    """Paths become strings; arrays and frames given for inputs become InMemory."""
    if value is None:
        return None
    if name in DATA_KEYS or (name in OPTIONS and OPTIONS[name].kind == "path"):
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
        if name in DATA_KEYS:
            return InMemory(value, name)
    return value


def _view_inputs(
    views: Any,
) -> tuple[list[Any], dict[str, tuple[Any, Any]]]:
    """``view=`` of the API: paths stay text; arrays become in-memory inputs, each named in
    the settings by its label (``<in-memory array 1682×384: view sem>``)."""
    if isinstance(views, (str, tuple)):
        views = [views]
    plain: list[Any] = []
    inputs: dict[str, tuple[Any, Any]] = {}
    for item in views:
        if not (isinstance(item, (list, tuple)) and len(item) in (2, 3)):
            plain.append(item)  # "NAME=PATH[:IDS]": parsed with the flags' rules
            continue
        name, value = str(item[0]), item[1]
        ids = item[2] if len(item) == 3 else None
        if not isinstance(value, (str, os.PathLike)) or not (
            ids is None or isinstance(ids, (str, os.PathLike))
        ):
            value = _plain_view(value, f"view {name}")
            ids = None if ids is None else _plain_view(ids, f"view {name} ids")
            inputs[name] = (value, ids)
        plain.append((name, str(value), None if ids is None else str(ids)))
    return plain, inputs


def _plain_view(value: Any, role: str) -> Any:
    return os.fspath(value) if isinstance(value, (str, os.PathLike)) else InMemory(value, role)


@dataclass(frozen=True)
class Report:
    """A finished ``complement report``: its document and every section (None: not run)."""

    doc: dict[str, Any]
    sections: dict[str, Section | None]

    def to_dict(self) -> dict[str, Any]:
        """The ``complement.report/1`` document (what ``complement report --json`` writes)."""
        return self.doc

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write the document as JSON (atomically)."""
        write_json(os.fspath(path), self.doc)

    def write_html(self, path: str | os.PathLike[str]) -> None:
        """Write the self-contained HTML page (atomically)."""
        from complement.report.outputs import write_outputs

        write_outputs(self.doc, html=os.fspath(path))

    def write_markdown(self, path: str | os.PathLike[str]) -> None:
        """Write the Markdown report (atomically)."""
        from complement.report.outputs import write_outputs

        write_outputs(self.doc, markdown=os.fspath(path))


@dataclass(eq=False)
class Study:
    """Two views of the same items (and optionally a log), and every diagnostic on them.

    ``sem`` and ``cf`` are the semantic and collaborative item embeddings; every other
    keyword is an input file or an option of the command line (``interactions=``,
    ``sem_ids=``, ``cf_ids=``, ``items=``, ``cf_users=``, ``split=``, ``seed=``, ``k=``,
    ...). ``config`` names a ``complement.toml`` whose values apply below the keywords.
    """

    sem: Any = None
    cf: Any = None
    config: str | os.PathLike[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    _backends: dict[tuple[str, str, str | None], Backend] = field(
        default_factory=dict, repr=False
    )
    _base: Context | None = field(default=None, repr=False)

    def __init__(
        self,
        sem: Any = None,
        cf: Any = None,
        *,
        config: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        for name in options:
            if name not in _KNOWN:
                raise _unknown(name, _KNOWN, "Study()")
        self.sem, self.cf, self.config = sem, cf, config
        self.options = dict(options)
        self._backends = {}
        self._base = None

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **options: Any) -> Study:
        """A study of the inputs and options of a ``complement.toml`` (keywords override)."""
        return cls(config=path, **options)

    # --- settings, device, inputs ---------------------------------------------------------

    def settings(self, command: str, **options: Any) -> Settings:
        """The resolved settings of ``command`` with this study's inputs and options."""
        takes = set(COMMANDS[command]) - set(_NOT_API)
        for name in options:
            if name not in takes:
                raise _unknown(name, takes, f"Study.{command}()")
        given: dict[str, Any] = {"semantic": self.sem, "collaborative": self.cf}
        given.update(self.options)
        given.update(options)
        flags = {n: _plain(n, v) for n, v in given.items() if n in takes and v is not None}
        config = None if self.config is None else Path(self.config)
        return resolve(command, flags, config=config)

    def backend(self, settings: Settings) -> Backend:
        """The retrieval backend of the settings' device and engine, resolved once per study."""
        key = (
            settings.get("device", "auto"),
            settings.get("engine") or "local",
            settings.get("ray_address"),
        )
        if key not in self._backends:
            self._backends[key] = backend_for(settings)
        return self._backends[key]

    def _context(self, settings: Settings, *, need_split: bool = False) -> Context:
        backend = self.backend(settings)
        if self._base is None:
            report = self.settings("report")
            backend_of_base = self.backend(report)
            self._base = load_context(report, backend_of_base, need_split=log_given(report))
        base = _signature(self._base.settings, True)
        if any(base.get(n) != v for n, v in _signature(settings, need_split).items()):
            return load_context(settings, backend, need_split=need_split and log_given(settings))
        ctx = copy.copy(self._base)
        ctx.settings, ctx.backend, ctx.view_lists = settings, backend, None
        if settings.get("segment_col") != self._base.settings.get("segment_col"):
            ctx.__dict__.pop("segments", None)  # read again for this call's --segment-col
            _ = ctx.segments
        return ctx

    def _finish(self, section: Section, settings: Settings) -> Section:
        """The section with its provenance, as the command line would write it."""
        backend = self.backend(settings) if "device" in settings.values else None
        return replace(section, provenance=provenance(settings, backend))

    # --- the diagnostics ------------------------------------------------------------------

    def overlap(self, **options: Any) -> Section:
        """``complement overlap``: neighbour agreement (overlap@k, jaccard@k, linear CKA)."""
        settings = self.settings("overlap", **options)
        return self._finish(run_overlap(self._context(settings)), settings)

    def hits(self, **options: Any) -> Section:
        """``complement hits``: per-view accuracy and the hits only one view finds."""
        settings = self.settings("hits", **options)
        ctx = self._context(settings, need_split=True)
        ctx.require_split()
        return self._finish(run_hits(ctx), settings)

    def oracle(self, **options: Any) -> Section:
        """``complement oracle``: oracle bounds of choosing among the lists, practical fusion."""
        settings = self.settings("oracle", **options)
        ctx = self._context(settings, need_split=True)
        ctx.require_split()
        return self._finish(run_oracle(ctx), settings)

    def probe(self, **options: Any) -> Section:
        """``complement probe``: alignment probes (``capacity=``, ``shift=``, ``direction=``)."""
        settings = self.settings("probe", **options)
        ctx = self._context(settings, need_split=log_given(settings))
        return self._finish(run_probe(ctx, capacities_of(settings["capacity"])), settings)

    def structure(self, **options: Any) -> Section:
        """``complement structure``: CCA shared dimension, private energy per item."""
        settings = self.settings("structure", **options)
        return self._finish(run_structure(self._context(settings)), settings)

    def explain(self, item: str, **options: Any) -> Section:
        """``complement explain ITEM``: one item's neighbours in each view."""
        settings = self.settings("explain", **options)
        return self._finish(run_explain(self._context(settings), str(item)), settings)

    def align(self, *, export: str | os.PathLike[str] | None = None, **options: Any) -> Section:
        """``complement align``: train the alignment strategies and compare them with fusion."""
        from complement.io.export import export_folder

        settings = self.settings("align", **options)
        folder = export_folder(None if export is None else os.fspath(export))
        ctx = self._context(settings, need_split=True)
        ctx.require_split()
        return self._finish(run_align(ctx, folder), settings)

    def compare(self, **options: Any) -> Section:
        """``complement compare``: N named views, pairwise agreement and what each adds.

        ``view=[("sem", path_or_array, ids_or_None), ...]`` (or ``"NAME=PATH[:IDS]"``
        strings) names the views, in order; without it the config's ``[views]`` table is
        used. ``anchor=`` ranks the other views by what they add to one view.
        """
        given = options.pop("view", self.options.get("view"))
        inputs: dict[str, tuple[Any, Any]] = {}
        if given is not None:
            given, inputs = _view_inputs(given)
            options["view"] = given
        settings = self.settings("compare", **options)
        if inputs:
            settings = replace(settings, extra={**settings.extra, "view_inputs": inputs})
        backend = self.backend(settings)
        section = run_compare(load_many(settings, backend))
        return compare_provenance(section, settings, backend)

    def report(self, **options: Any) -> Report:
        """``complement report``: every diagnostic in one document."""
        settings = self.settings("report", **options)
        run = build_report(self._context(settings, need_split=True))
        return Report(run.doc, run.sections)
