"""The keyword arguments of the Python API: checked against the option table, and its errors
worded for Python.

An unknown keyword is a TypeError naming the closest one (:func:`unknown_keyword`), as for
any Python function. :func:`check_keyword` checks one keyword of :class:`complement.Study`
against the option's kind (the check of ``complement.toml`` values,
:func:`complement.config.check_type`): numpy scalars count as the Python numbers they hold
and numpy arrays or tuples as lists of integers; a string is never a boolean.
:func:`api_message` rewrites a message's flags (``--drop-invalid``, ``--split files``) as
keywords (``drop_invalid=True``, ``split='files'``); :func:`api_errors` applies it to every
error a public method raises.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np

from complement.config import DATA_KEYS, OPTIONS, OUTPUT_OPTIONS, check_type
from complement.errors import ComplementError, ConfigError, InputError, UsageError
from complement.io.sources import instance_of, wrap

__all__ = [
    "CLI_ONLY",
    "PATH_ONLY",
    "api_errors",
    "api_message",
    "check_keyword",
    "unknown_keyword",
    "view_inputs",
]

#: inputs the pipeline reads from files only (the item and user tables)
PATH_ONLY = ("items", "users")


def _plain(value: Any, *, sequence: bool) -> Any:
    """numpy scalars as the Python scalars they hold; for an option taking several values
    (``sequence``), 1-D numpy arrays and lists as tuples of Python scalars."""
    if isinstance(value, np.generic):
        return value.item()
    if not sequence:
        return value
    if isinstance(value, np.ndarray) and value.ndim <= 1:
        return value.item() if value.ndim == 0 else tuple(value.tolist())
    if isinstance(value, (list, tuple)):
        return tuple(v.item() if isinstance(v, np.generic) else v for v in value)
    return value


def _is_input(value: Any) -> bool:
    """A path, an array, a frame or a sequence of ids: what an input keyword may be."""
    if isinstance(value, (str, os.PathLike, list, tuple, np.ndarray)):
        return True
    if isinstance(value, (np.generic, bool, int, float, complex, dict, set, bytes)):
        return False
    return hasattr(value, "__array__") or instance_of(value, "polars", "LazyFrame")


def _kind_name(value: Any) -> str:
    return f"a {type(value).__module__.split('.')[0]} {type(value).__name__}"


def check_keyword(name: str, value: Any, where: str) -> Any:
    """``value`` of keyword ``name`` checked and normalised; UsageError (InputError for an
    input of the wrong kind) naming ``where`` (``Study.overlap()``) and ``name=value``."""
    if name in DATA_KEYS:
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
        if not _is_input(value):
            raise UsageError(
                f"{where}: {name}={value!r}: give a path, a numpy array or a polars DataFrame"
            )
        if name in PATH_ONLY:
            raise InputError(
                f"{where}: {name}= is {_kind_name(value)}; give the path of a table file "
                "(frames are read for interactions=, train= and test=, arrays for the embeddings "
                "and ids)"
            )
        return value
    opt = OPTIONS[name]
    if opt.kind == "views":
        return value  # Study.compare reads view= (paths or arrays) itself
    if opt.kind == "path" and isinstance(value, os.PathLike):
        return os.fspath(value)
    value = _plain(value, sequence=opt.kind in ("ints", "choices"))
    try:
        return check_type(opt, value, where)
    except ConfigError as exc:
        text = str(exc).replace("true or false", "a bool")
        for given in (f"{name} = ", f"--{name} ", f"{opt.flag} "):  # the value follows
            text = text.replace(given, f"{name}=", 1)
        raise UsageError(api_message(text)) from None


_VALUE = r"'[^']*'|\"[^\"]*\"|\([^)]*\)|\[[^\]]*\]|-?[0-9][^\s,;:)]*|[A-Z][A-Z0-9_]*\b"
_FLAG = re.compile(
    rf"(?<![\w-])--(?P<no>no-)?(?P<name>[a-z][a-z0-9_-]*)"
    rf"(?P<after> (?P<value>{_VALUE}|(?P<word>[a-z][\w-]*)))?"
)


def _keyword(match: re.Match[str]) -> str:
    name = match["name"].replace("-", "_")
    opt = OPTIONS.get(name) or DATA_KEYS.get(name)
    if (opt is None and name != "config") or (match["no"] and (opt is None or opt.kind != "bool")):
        return match[0]
    after = match["after"] or ""
    if opt is not None and opt.kind == "bool":
        return f"{name}={not match['no']}{after}"
    word = match["word"]
    if word is not None:
        if opt is not None and word in opt.choices:
            return f"{name}={word!r}"
        return f"{name}{after}"  # prose follows: "k is empty"
    if match["value"] is not None:
        return f"{name}={match['value']}"
    return f"{name}="


def api_message(text: str) -> str:
    """A message of the command line with each option flag written as a keyword argument:
    ``--drop-invalid`` → ``drop_invalid=True``, ``--split files`` → ``split='files'``,
    ``--train TRAIN_LOG`` → ``train=TRAIN_LOG``, ``--seed -1`` → ``seed=-1``."""
    return _FLAG.sub(_keyword, text)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def api_errors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """A public method whose errors name keywords (``drop_invalid=True``), not flags."""

    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except ComplementError as exc:
            if exc.args and isinstance(exc.args[0], str):
                exc.args = (api_message(exc.args[0]), *exc.args[1:])
            raise

    return call


#: options that only name the command line's output files or console: not API arguments
CLI_ONLY = (*OUTPUT_OPTIONS, "run_dir", "quiet")


def unknown_keyword(name: str, known: set[str], where: str) -> TypeError:
    """The TypeError of a keyword ``where`` does not take, naming the closest one (an output
    of the command line: how to get it from Python instead)."""
    if name in CLI_ONLY:
        flag = "--" + name.replace("_", "-")
        return TypeError(
            f"{where} got an unexpected keyword argument {name!r}: {flag} is an output of the "
            "command line; the returned Section holds the result (to_dict(), document(), and "
            "the arrays in .result), and a Report writes files with write_json, write_html "
            "and write_markdown"
        )
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return TypeError(f"{where} got an unexpected keyword argument {name!r}{hint}")


def view_inputs(
    views: Any, *, snapshot: bool = False
) -> tuple[list[Any], dict[str, tuple[Any, Any]]]:
    """``view=`` of the API: paths stay text; arrays become in-memory inputs (copies with
    ``snapshot``), each named in the settings by its label (``<in-memory array 1682×384: view
    sem>``)."""
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
            value = _view_value(value, f"view {name}", snapshot)
            ids = None if ids is None else _view_value(ids, f"view {name} ids", snapshot)
            inputs[name] = (value, ids)
        plain.append((name, str(value), None if ids is None else str(ids)))
    return plain, inputs


def _view_value(value: Any, role: str, snapshot: bool) -> Any:
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    return wrap(value, role, snapshot=snapshot)
