"""The Python API: :class:`Study`, the same diagnostics as the command line, in one object.

``Study`` takes the command line's inputs and options as keyword arguments (the option names
with underscores: ``cutoff=``, ``drop_invalid=``, ``test_frac=``, ``cf_users=``,
``n_boot=`` ...), with the same defaults and the same config file (``Study.from_config``).
Inputs may be paths, numpy arrays (embeddings, ids) or frames (interaction logs: polars or
pandas DataFrames, polars LazyFrames); the study copies arrays and frames at first use. The
inputs are loaded once, on first use, and shared by every method whose own keywords do not
change what is loaded (such a call loads for itself); the device is resolved once. Keyword
values are checked against their options, and errors name keywords, not flags.
Each method returns a :class:`~complement.pipeline.Section` whose ``to_dict()`` equals the
matching command's ``--json`` document apart from its ``provenance``; :meth:`Study.report`
returns a :class:`Report` that writes the JSON, HTML and Markdown of ``complement report``.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from complement.config import COMMANDS, DATA_KEYS, OPTIONS, Settings, resolve
from complement.errors import ComplementError, UsageError
from complement.io.jsonio import write_json
from complement.io.sources import InMemory, wrap
from complement.keywords import (
    CLI_ONLY,
    api_errors,
    check_keyword,
    unknown_keyword,
    view_inputs,
)
from complement.options import LOG_OPTIONS, SPLIT_OPTIONS, VIEW_OPTIONS, option
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

#: the options :func:`load_context` reads (``pipeline/context.py``): the views' (``load_views``),
#: the log's (``load_log``), the split's (``split_of``); tests/test_study_loading.py records
#: what it reads and checks that nothing falls outside
_SPLIT_READS = (*(n for n in SPLIT_OPTIONS if n not in ("train", "test")), "seed")
_LOAD_KEYS = frozenset((*VIEW_OPTIONS, *LOG_OPTIONS, *SPLIT_OPTIONS, *_SPLIT_READS))
#: the options the segments of ``--segment-col`` are read with (``load_segments``)
_SEGMENT_KEYS = ("segment_col", "items", "users", "item_col", "user_col")
#: what load_context reads where a command lacks the option (hits has no --metric, ...)
_ABSENT: dict[str, Any] = {"metric": "cosine", "min_shared": 0.5, "valid_frac": 0.0}


def _read(settings: Settings, name: str) -> Any:
    value = settings.get(name, _ABSENT.get(name))
    return bool(value) if option(name).kind == "bool" else value


def _signature(settings: Settings, need_split: bool) -> dict[str, Any]:
    """What ``load_context(settings, need_split=need_split)`` reads, as it reads it: the
    views' options always; for a command that takes a log, the log (one file, or the split
    files) and, with one, its columns, the time column when timestamps are read, the split's
    options when a split is made. A context loaded for settings whose signature holds this
    one (every key, the same value) serves these settings."""
    sig = {n: _read(settings, n) for n in VIEW_OPTIONS}
    values = settings.values
    if "interactions" not in values and "split" not in values:
        return sig  # the command takes no log (explain): a log loaded with the views is unused
    if _read(settings, "split") == "files":
        sig["log"] = ("files", _read(settings, "train"), _read(settings, "test"))
    else:
        sig["log"] = _read(settings, "interactions")
    if sig["log"] is None:
        return sig
    columns = (n for n in LOG_OPTIONS if n not in ("interactions", "time_col"))
    sig.update({n: _read(settings, n) for n in columns})
    if need_split or "split" in values:
        sig["time_col"] = _read(settings, "time_col")
    if need_split:
        sig.update({n: _read(settings, n) for n in _SPLIT_READS})
        sig["valid_frac"] = sig["valid_frac"] or 0.0
    return sig


def _serves(base: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a context of signature ``base`` holds what one of ``wanted`` would load."""
    return all(n in base and base[n] == v for n, v in wanted.items())


#: options that only name output files or folders or the console: not arguments of the API
_NOT_API = CLI_ONLY
_KNOWN = {n for names in COMMANDS.values() for n in names} - set(_NOT_API)


def _markdown(doc: dict[str, Any]) -> str | None:
    """The document as Markdown (the report's renderer), None where it cannot be drawn."""
    from complement.report.markdown import render_markdown

    try:
        return render_markdown(doc)
    except Exception:  # noqa: BLE001 - a notebook then shows the repr instead
        return None


class _Shown(Section):
    """A section as the API returns it: a notebook shows its tables (the pipeline, where
    :class:`Section` lives, may not import the renderer)."""

    def _repr_markdown_(self) -> str | None:
        return _markdown(self.document())


def _shown(section: Section) -> Section:
    return _Shown(section.name, section.result, section.doc, section.provenance)


@dataclass(frozen=True, repr=False)
class Report:
    """A finished ``complement report``: its document and every section (None: not run)."""

    doc: dict[str, Any]
    sections: dict[str, Section | None]

    def to_dict(self) -> dict[str, Any]:
        """The ``complement.report/1`` document (what ``complement report --json`` writes): a
        copy, which the caller may change."""
        return copy.deepcopy(self.doc)

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

    def __repr__(self) -> str:
        order = self.doc.get("sections") or self.sections  # the document's order
        parts = ", ".join(
            f"{name}: {'ok' if self.sections.get(name) is not None else 'not run'}"
            for name in order
        )
        return f"Report(sections={{{parts}}})"

    def _repr_markdown_(self) -> str | None:
        return _markdown(self.doc)


@dataclass(eq=False)
class Study:
    """Two views of the same items (and optionally a log), and every diagnostic on them.

    ``sem`` and ``cf`` are the semantic and collaborative item embeddings; every other
    keyword is an input file or an option of the command line (``interactions=``,
    ``sem_ids=``, ``cf_ids=``, ``items=``, ``cf_users=``, ``split=``, ``seed=``, ``k=``,
    ...). ``config`` names a ``complement.toml`` whose values apply below the keywords.
    Arrays and frames given here are copied at first use: the study keeps them as they were.
    """

    sem: Any = None
    cf: Any = None
    config: str | os.PathLike[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    _backends: dict[tuple[str, str, str | None], Backend] = field(default_factory=dict, repr=False)
    #: the study-level inputs as given and as wrapped (copied) at first use, by name
    _inputs: dict[str, tuple[Any, InMemory]] = field(default_factory=dict, repr=False)
    #: the study-level ``view=`` of compare as given, and its settings and copied inputs
    _views: tuple[Any, tuple[list[Any], dict[str, tuple[Any, Any]]]] | None = field(
        default=None, repr=False
    )
    #: the study-level context: its signature and the context (None: loading it failed)
    _base: tuple[dict[str, Any], Context | None] | None = field(default=None, repr=False)

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
                raise unknown_keyword(name, _KNOWN, "Study()")
        if config is not None and not isinstance(config, (str, os.PathLike)):
            raise UsageError(f"Study(): config={config!r}: give the path of a complement.toml")
        self.sem = None if sem is None else check_keyword("semantic", sem, "Study()")
        self.cf = None if cf is None else check_keyword("collaborative", cf, "Study()")
        self.config = config
        self.options = {
            n: check_keyword(n, v, "Study()") for n, v in options.items() if v is not None
        }
        self._backends = {}
        self._inputs = {}
        self._views = None
        self._base = None

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **options: Any) -> Study:
        """A study of the inputs and options of a ``complement.toml`` (keywords override)."""
        return cls(config=path, **options)

    # --- settings, device, inputs ---------------------------------------------------------

    def _study_inputs(self) -> dict[str, Any]:
        """The study-level inputs: paths as text, arrays and frames wrapped (and copied) once."""
        given = {"semantic": self.sem, "collaborative": self.cf}
        given.update({n: v for n, v in self.options.items() if n in DATA_KEYS})
        out: dict[str, Any] = {}
        for name, value in given.items():
            if value is None or isinstance(value, (str, os.PathLike)):
                out[name] = None if value is None else os.fspath(value)
                continue
            held = self._inputs.get(name)
            if held is None or held[0] is not value:
                held = (value, wrap(value, name, snapshot=True))
                self._inputs[name] = held
            out[name] = held[1]
        return out

    @api_errors
    def settings(self, command: str, **options: Any) -> Settings:
        """The resolved settings of ``command`` with this study's inputs and options."""
        takes = set(COMMANDS[command]) - set(_NOT_API)
        where = f"Study.{command}()"
        for name in options:
            if name not in takes:
                raise unknown_keyword(name, takes, where)
        given = {n: v for n, v in self.options.items() if n not in DATA_KEYS}
        given.update(self._study_inputs())
        for name, value in options.items():
            if value is not None:
                value = check_keyword(name, value, where)
                if name in DATA_KEYS and not isinstance(value, str):
                    value = wrap(value, name)
            given[name] = value
        flags = {n: v for n, v in given.items() if n in takes and v is not None}
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
        """The inputs of one call: the study-level context when it holds what the call's
        settings would load (decided before loading it), else loaded for the call."""
        backend = self.backend(settings)
        need_split = need_split and log_given(settings)
        report = self.settings("report")
        signature = _signature(report, log_given(report))
        if not _serves(signature, _signature(settings, need_split)):
            return load_context(settings, backend, need_split=need_split)
        if self._base is None or self._base[0] != signature:
            try:
                base = load_context(report, self.backend(report), need_split=log_given(report))
            except ComplementError:
                base = None  # e.g. its time column: the call's own load decides below
            self._base = (signature, base)
        base = self._base[1]
        if base is None:
            return load_context(settings, backend, need_split=need_split)
        ctx = copy.copy(base)
        ctx.settings, ctx.backend, ctx.view_lists = settings, backend, None
        if any(settings.get(n) != base.settings.get(n) for n in _SEGMENT_KEYS):
            ctx.__dict__.pop("segments", None)  # read again for this call's --segment-col
            _ = ctx.segments
        return ctx

    def _finish(self, section: Section, settings: Settings) -> Section:
        """The section with its provenance, as the command line would write it."""
        backend = self.backend(settings) if "device" in settings.values else None
        return _shown(replace(section, provenance=provenance(settings, backend)))

    # --- the diagnostics ------------------------------------------------------------------

    @api_errors
    def overlap(self, **options: Any) -> Section:
        """``complement overlap``: neighbour agreement (overlap@k, jaccard@k, linear CKA)."""
        settings = self.settings("overlap", **options)
        return self._finish(run_overlap(self._context(settings)), settings)

    @api_errors
    def hits(self, **options: Any) -> Section:
        """``complement hits``: per-view accuracy and the hits only one view finds."""
        settings = self.settings("hits", **options)
        ctx = self._context(settings, need_split=True)
        ctx.require_split()
        return self._finish(run_hits(ctx), settings)

    @api_errors
    def oracle(self, **options: Any) -> Section:
        """``complement oracle``: oracle bounds of choosing among the lists, practical fusion."""
        settings = self.settings("oracle", **options)
        ctx = self._context(settings, need_split=True)
        ctx.require_split()
        return self._finish(run_oracle(ctx), settings)

    @api_errors
    def probe(self, **options: Any) -> Section:
        """``complement probe``: alignment probes (``capacity=``, ``shift=``, ``direction=``)."""
        settings = self.settings("probe", **options)
        ctx = self._context(settings, need_split=log_given(settings))
        return self._finish(run_probe(ctx, capacities_of(settings["capacity"])), settings)

    @api_errors
    def structure(self, **options: Any) -> Section:
        """``complement structure``: CCA shared dimension, private energy per item."""
        settings = self.settings("structure", **options)
        return self._finish(run_structure(self._context(settings)), settings)

    @api_errors
    def explain(self, item: str, **options: Any) -> Section:
        """``complement explain ITEM``: one item's neighbours in each view."""
        settings = self.settings("explain", **options)
        return self._finish(run_explain(self._context(settings), str(item)), settings)

    @api_errors
    def align(self, *, export: str | os.PathLike[str] | None = None, **options: Any) -> Section:
        """``complement align``: train the alignment strategies and compare them with fusion."""
        from complement.io.export import check_export, export_folder

        settings = self.settings("align", **options)
        target = None if export is None else os.fspath(export)
        every = OPTIONS["method"].choices  # the export's files may not be inputs (as the CLI)
        check_export(target, settings.get("method"), every, settings.input_files())
        folder = export_folder(target)
        ctx = self._context(settings, need_split=True)
        ctx.require_split()
        return self._finish(run_align(ctx, folder), settings)

    @api_errors
    def compare(self, **options: Any) -> Section:
        """``complement compare``: N named views, pairwise agreement and what each adds.

        ``view=[("sem", path_or_array, ids_or_None), ...]`` (or ``"NAME=PATH[:IDS]"``
        strings) names the views, in order; without it the config's ``[views]`` table (or
        its ``view`` list) is used. ``anchor=`` ranks the other views by what they add to one view.
        """
        given = options.pop("view", None)
        inputs: dict[str, tuple[Any, Any]] = {}
        if given is not None:
            options["view"], inputs = view_inputs(given)
        elif self.options.get("view") is not None:  # the study's views: copied once
            raw = self.options["view"]
            if self._views is None or self._views[0] is not raw:
                self._views = (raw, view_inputs(raw, snapshot=True))
            options["view"], inputs = self._views[1]
        settings = self.settings("compare", **options)
        if inputs:
            settings = replace(settings, extra={**settings.extra, "view_inputs": inputs})
        backend = self.backend(settings)
        section = run_compare(load_many(settings, backend))
        return _shown(compare_provenance(section, settings, backend))

    @api_errors
    def report(self, **options: Any) -> Report:
        """``complement report``: every diagnostic in one document."""
        settings = self.settings("report", **options)
        run = build_report(self._context(settings, need_split=True))
        sections = {n: None if s is None else _shown(s) for n, s in run.sections.items()}
        return Report(run.doc, sections)
