"""Values of options as given on the command line or in ``complement.toml``: parsed, checked.

``--k 10,20`` and ``k = [10, 20]``, ``--method ncn,darec``, ``--view NAME=PATH[:IDS]`` and
the ``[views]`` table: each becomes one normalised value or a :class:`UsageError` naming the
option and how to fix it. :mod:`complement.config` applies them to the option table.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from complement.errors import ConfigError, UsageError

__all__ = ["ViewSpec", "parse_choices", "parse_ints", "parse_views"]


def parse_choices(value: Any, choices: tuple[str, ...], name: str) -> str:
    """``"a,b"`` or ``["a", "b"]`` -> ``"a,b"``: allowed names in first-seen order, no repeats."""
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        raise UsageError(f"--{name.replace('_', '-')} {value!r}: give names such as {choices[0]}")
    out: list[str] = []
    for item in items:
        if item not in choices:
            raise UsageError(
                f"--{name.replace('_', '-')} {value!r}: {item!r} is unknown; choose one of "
                f"{', '.join(choices)} (comma-separated)"
            )
        if item not in out:
            out.append(item)
    if not out:
        raise UsageError(f"--{name.replace('_', '-')} is empty: give at least one name")
    return ",".join(out)


def parse_ints(value: Any, name: str = "k") -> tuple[int, ...]:
    """``10``, ``[10, 20]`` or ``"10,20"`` -> ``(10, 20)``; positive, sorted, unique."""
    if isinstance(value, bool):
        raise UsageError(f"--{name} {value!r}: give integers such as 10,20,50")
    if isinstance(value, int):
        items: list[Any] = [value]
    elif isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise UsageError(f"--{name} {value!r}: give integers such as 10,20,50")
    out: list[int] = []
    for item in items:
        try:
            if isinstance(item, bool) or (isinstance(item, float) and not item.is_integer()):
                raise ValueError
            number = int(item)
        except (TypeError, ValueError):
            raise UsageError(f"--{name} {value!r}: {item!r} is not an integer") from None
        if number < 1:
            raise UsageError(f"--{name} {value!r}: every value must be a positive integer")
        out.append(number)
    if not out:
        raise UsageError(f"--{name} is empty: give at least one integer")
    return tuple(sorted(set(out)))


_VIEW_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")

#: one named view: (name, embeddings path, ids path or None)
ViewSpec = tuple[str, str, str | None]


def _path_and_ids(
    text: str, name: str, rest: str, where: str, base: Path | None
) -> tuple[str, str | None]:
    """``PATH`` or ``PATH:IDS`` after ``NAME=``: the whole text when it names a file (a path
    may hold ``:``), else split at its last ``:``; refused when neither names a file."""
    path, colon, ids = rest.rpartition(":")
    if not colon or not path:
        return rest, None
    whole = Path(rest) if base is None else base / rest
    if whole.is_file():
        return rest, None
    if not ids:
        raise UsageError(
            f"{where} {text!r}: nothing after ':' (the ids file); give NAME=PATH:IDS, or drop "
            "the ':'"
        )
    first = Path(path) if base is None else base / path
    if not first.exists():
        raise UsageError(
            f"{where} {text!r}: no file {rest!r}, and read as NAME=PATH:IDS no file {path!r} "
            f"either (with ids {ids!r}); check the path, or name a view whose path holds ':' "
            f'in a [views] table of complement.toml: {name} = {{path = "...", ids = "..."}}'
        )
    return path, ids


_TABLE_KEYS = ("path", "ids")


def _table_view(name: str, body: Any, where: str) -> tuple[str, str | None]:
    """One view of a ``[views]`` table: ``NAME = "PATH"`` or ``NAME = {path = ..., ids = ...}``."""
    if isinstance(body, str):
        if not body:
            raise ConfigError(f'{where}: {name} = "": empty path; give a file name')
        return body, None
    where = f"{where}: view {name!r}"
    if not isinstance(body, Mapping):
        raise ConfigError(f"{where} must be a path or {{path = ..., ids = ...}}")
    unknown = [str(key) for key in body if key not in _TABLE_KEYS]
    if unknown:
        close = [difflib.get_close_matches(key, _TABLE_KEYS, n=1) for key in unknown]
        hint = ", ".join(repr(c[0]) for c in close if c)
        raise ConfigError(
            f"{where}: unknown key{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))}; "
            + (f"did you mean {hint}?" if hint else "a view takes path and ids only")
        )
    if "path" not in body:
        raise ConfigError(f'{where}: no path; give {name} = {{path = "...", ids = "..."}}')
    for key in _TABLE_KEYS:
        if key in body and not isinstance(body[key], str):
            raise ConfigError(f"{where}: {key} must be a path string")
        if body.get(key) == "":
            raise ConfigError(f'{where}: {key} = "": empty path; give a file name')
    return body["path"], body.get("ids")


def parse_views(
    value: Any, where: str = "--view", base: Path | None = None
) -> tuple[ViewSpec, ...]:
    """``--view NAME=PATH[:IDS]`` flags, or a ``[views]`` table (NAME = "PATH" or
    NAME = {path = "PATH", ids = "IDS"}), as (name, path, ids) in the order given.

    ``PATH:IDS`` is split at its last ``:`` unless the whole text names a file, so a path may
    hold ``:``; when neither reading names a file the flag is refused here, naming both."""
    specs: list[ViewSpec] = []
    if isinstance(value, Mapping):
        for name, body in value.items():
            path, ids = _table_view(str(name), body, where)
            specs.append((str(name), path, ids))
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (list, tuple)) and len(item) == 3:
                specs.append((str(item[0]), str(item[1]), item[2]))
                continue
            text = str(item)
            name, sep, rest = text.partition("=")
            if not sep or not rest:
                raise UsageError(
                    f"{where} {text!r}: give NAME=PATH or NAME=PATH:IDS, e.g. --view cf=cf.npy"
                )
            path, ids = _path_and_ids(text, name.strip(), rest, where, base)
            specs.append((name.strip(), path, ids))
    else:
        raise UsageError(f"{where}: give views as NAME=PATH (repeat --view for each view)")
    seen: set[str] = set()
    out: list[ViewSpec] = []
    for name, path, ids in specs:
        if not _VIEW_NAME.match(name):
            raise UsageError(
                f"{where}: view name {name!r}: use letters, digits, '_', '-' or '.' only"
            )
        if name in seen:
            raise UsageError(f"{where}: view name {name!r} is given twice; name each view once")
        seen.add(name)
        if base is not None:
            path = str(base / path)
            ids = None if ids is None else str(base / ids)
        out.append((name, path, ids))
    return tuple(out)
