"""``complement.toml`` + command-line flags -> one frozen :class:`Settings`.

Layout of the file (every key optional; paths are relative to the file)::

    [data]        # input files: semantic, collaborative, sem_ids, cf_ids, interactions, items,
                  # sem_users, sem_users_ids, cf_users, cf_users_ids, train, test
    [options]     # any option of any command, e.g. k = [10, 20, 50], seed = 0, split = "temporal"
    [overlap]     # options for one command only; override [options]
    [gate]        # ... likewise for every command
    [views]       # compare's named views: NAME = "PATH" or NAME = {path = "...", ids = "..."};
                  # or a list view = ["NAME=PATH[:IDS]", ...] in [compare] or [options]

A path option set to ``-`` (standard output, for ``json`` and ``markdown``) is kept as given.

The options themselves (config key, kind, default, help) and which command takes which are
declared once, in :mod:`complement.options`.

Precedence: a flag given on the command line > ``[<command>]`` > ``[options]`` > built-in
default. Unknown sections or keys, and values of the wrong type, are errors (a typo must not
be ignored). :class:`Settings` remembers where each value came from.
"""

from __future__ import annotations

import datetime
import difflib
import json
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from complement.errors import ConfigError, InputError, UsageError
from complement.options import (
    ABOVE,
    COMMANDS,
    DATA_KEYS,
    MAXIMUM,
    MINIMUM,
    NOT_PROVENANCE,
    OPTIONS,
    OUTPUT_FOLDERS,
    OUTPUT_OPTIONS,
    Option,
    option,
)
from complement.values import parse_choices, parse_ints, parse_views

__all__ = [
    "COMMANDS",
    "CONFIG_NAME",
    "DATA_KEYS",
    "MINIMUM",
    "NOT_PROVENANCE",
    "OPTIONS",
    "OUTPUT_OPTIONS",
    "Option",
    "Settings",
    "check_type",
    "option",
    "parse_ints",
    "parse_views",
    "resolve",
]

CONFIG_NAME = "complement.toml"
#: standard output, kept as given by a path option of the config file (it is not rebased onto
#: the config's folder); the same marker as ``complement.io.writer.STDOUT``, which refuses it
#: for the outputs that cannot go to standard output
STDOUT = "-"


def toml_value(value: Any) -> str:
    """``value`` as TOML writes it (``true``, ``"text"``, ``[5, -1]``), for messages about a
    config file: the user wrote TOML, not Python."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return repr(value)


def _check_type(opt: Option, value: Any, where: str, show: Callable[[Any], str] = repr) -> Any:
    kind = opt.kind
    bad = False
    if kind == "int":
        bad = isinstance(value, bool) or not isinstance(value, int)
    elif kind == "float":
        bad = isinstance(value, bool) or not isinstance(value, (int, float))
        value = value if bad else float(value)
    elif kind in ("str", "path"):
        bad = not isinstance(value, str)
    elif kind == "bool":
        bad = not isinstance(value, bool)
    elif kind == "choice":
        if not isinstance(value, str) or value not in opt.choices:
            raise ConfigError(
                f"{where}: {opt.name} = {show(value)} is not one of {', '.join(opt.choices)}"
            )
    elif kind == "choices":
        try:
            value = parse_choices(value, opt.choices, opt.name)
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    elif kind == "ints":
        try:
            value = parse_ints(value, opt.name)
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if bad:
        expected = {
            "int": "an integer",
            "float": "a number",
            "str": "a string",
            "path": "a path string",
            "bool": "true or false",
        }[kind]
        raise ConfigError(f"{where}: {opt.name} = {show(value)} must be {expected}")
    return value


def check_type(opt: Option, value: Any, where: str) -> Any:
    """``value`` checked against ``opt``'s kind and normalised (a float as float, ``k`` as a
    tuple): the check of ``complement.toml`` values, shared with the Python API. Raises
    ConfigError ``"<where>: <key> = <value> must be ..."``."""
    return _check_type(opt, value, where)


def _config_views(value: Any, where: str, base: Path) -> Any:
    """``view = ["NAME=PATH[:IDS]", ...]`` in a section: paths relative to the config's folder."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f'{where}: view = {toml_value(value)} must be a list of "NAME=PATH[:IDS]" strings, '
            'e.g. view = ["sem=sem.npy", "cf=cf.npy:ids.npy"], or give the views in a [views] table'
        )
    try:
        return parse_views(value, f"{where} view", base=base)
    except UsageError as exc:
        raise ConfigError(str(exc)) from None


def _unknown(key: str, known: Iterable[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = (
        f"; did you mean {close[0]!r}?"
        if close
        else "; 'complement COMMAND --help' shows each option's key as [config: KEY]"
    )
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _misplaced(key: str, section: str, where: str) -> ConfigError | None:
    """A real key in the wrong section: say where it belongs."""
    head = f"config {where} [{section}]: unknown key {key!r}"
    if section != "data" and key in DATA_KEYS and key not in OPTIONS:
        return ConfigError(f"{head}: an input file; move it to [data]")
    if section == "data" and key in OPTIONS:
        return ConfigError(f"{head}: an option; move it to [options]")
    if section not in ("data", "options") and key in OPTIONS:
        takers = sorted(c for c, names in COMMANDS.items() if key in names)
        return ConfigError(
            f"{head}: not an option of {section}; move it to [options] or to a command that "
            f"takes it ({', '.join(takers) or 'none yet'})"
        )
    return None


@dataclass(frozen=True)
class Settings:
    """Resolved values for one command, with where each came from."""

    command: str
    values: Mapping[str, Any]
    sources: Mapping[str, str]
    config_path: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def input_files(self) -> list[str]:
        """Every file the run reads: input files, path options that are not outputs (gate's
        baseline and rules), compare's views and their ids, the config file, and the
        command's other inputs (``extra["inputs"]``). No output may overwrite one of them."""
        files: list[str] = []
        for name, value in self.values.items():
            opt = OPTIONS.get(name) or DATA_KEYS.get(name)
            if opt is None or name in OUTPUT_OPTIONS or name in OUTPUT_FOLDERS:
                continue
            if opt.kind == "path" and isinstance(value, str):
                files.append(value)
            elif opt.kind == "views":
                files += [part for view in value for part in view[1:] if isinstance(part, str)]
        if self.config_path is not None:
            files.append(self.config_path)
        files += self.extra.get("inputs", ())
        return files

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, tuple):
                return list(v)
            if v is None or isinstance(v, (str, int, float, bool)):
                return v
            return str(v)  # an in-memory input given to the Python API: its label

        return {
            "config_file": self.config_path,
            "values": {k: plain(v) for k, v in sorted(self.values.items())},
            "sources": dict(sorted(self.sources.items())),
        }


def _num(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _check_ranges(values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """Finite numbers within the documented bounds, for flags and config values alike."""
    for name, value in values.items():
        opt = OPTIONS.get(name)
        if opt is None or value is None or opt.kind not in ("int", "float"):
            continue
        where = "" if sources[name] in ("flag", "default") else f" (set in {sources[name]})"
        if opt.kind == "float" and not math.isfinite(value):
            raise UsageError(f"{opt.flag} {value}{where}: must be a finite number")
        low, high = MINIMUM.get(name), MAXIMUM.get(name)
        if name in ABOVE and value <= ABOVE[name]:
            raise UsageError(
                f"{opt.flag} {value}{where}: must be above {_num(ABOVE[name])}; give a larger value"
            )
        if low is not None and value < low:
            raise UsageError(
                f"{opt.flag} {value}{where}: must be at least {_num(low)}; give a larger value"
            )
        if high is not None and value > high:
            raise UsageError(
                f"{opt.flag} {value}{where}: must be at most {_num(high)}; give a smaller value"
            )


def load_config(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"config {path}: cannot be read ({exc.strerror})") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {path}: not valid TOML ({exc}); fix the file") from None
    except (RecursionError, ValueError):  # nested too deeply, or a number too long to convert
        raise ConfigError(
            f"config {path}: nested too deeply or holds a number too long to read; fix the file"
        ) from None
    where = str(path)
    known_sections = {"data", "options", "views", *COMMANDS}
    for section, body in doc.items():
        if section not in known_sections:
            close = difflib.get_close_matches(section, sorted(known_sections), n=1)
            hint = (
                f"did you mean [{close[0]}]?"
                if close
                else f"known sections: {', '.join(sorted(known_sections))}"
            )
            raise ConfigError(f"config {where}: unknown section [{section}]; {hint}")
        if not isinstance(body, dict):
            raise ConfigError(f"config {where}: {section!r} must be a [section] of keys")
        if section == "views":
            try:
                doc["views"] = parse_views(body, f"config {where} [views]")
            except UsageError as exc:
                raise ConfigError(str(exc)) from None
            continue
        if section == "data":
            catalogue: Mapping[str, Option] = DATA_KEYS
        elif section == "options":
            catalogue = OPTIONS
        else:
            catalogue = {n: OPTIONS.get(n) or DATA_KEYS[n] for n in COMMANDS[section]}
        here = f"config {where} [{section}]"
        for key, value in body.items():
            if key not in catalogue:
                raise _misplaced(key, section, where) or _unknown(key, catalogue, here)
            if catalogue[key].kind == "views":
                body[key] = _config_views(value, here, path.parent)
                continue
            body[key] = _check_type(catalogue[key], value, here, show=toml_value)
            if catalogue[key].kind == "path" and value == "":
                raise ConfigError(
                    f'{here}: {key} = "": empty path; give a file name or remove the key'
                )
    twice = [s for s, body in doc.items() if isinstance(body, dict) and "view" in body]
    if "views" in doc and twice:
        raise ConfigError(
            f"config {where}: views given twice, in [views] and as view in [{twice[0]}]; give "
            "the views once: a [views] table, or a view list"
        )
    return doc


def find_config(explicit: str | Path | None, cwd: Path | None = None) -> Path | None:
    if explicit is not None:
        p = Path(explicit)
        if p.is_dir():
            raise InputError(f"config {p}: is a folder, not a file; give the config file's path")
        if p.exists() and not p.is_file():  # stat only: a FIFO is never opened
            raise InputError(
                f"config {p}: not a regular file (a pipe, socket or device); save the settings "
                "to a file and give its path"
            )
        if not p.is_file():
            raise InputError(f"config {p}: file not found; check the --config path")
        return p
    candidate = (cwd or Path.cwd()) / CONFIG_NAME
    return candidate if candidate.is_file() else None


def resolve(
    command: str,
    flags: Mapping[str, Any],
    *,
    config: str | Path | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge flags (``None`` = not given) over the config file over the defaults."""
    names = COMMANDS[command]
    path = find_config(config, cwd)
    doc = load_config(path) if path is not None else {}
    base = path.parent if path is not None else None
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in names:
        opt = OPTIONS.get(name) or DATA_KEYS[name]
        flag = flags.get(name)
        if opt.kind == "views":  # a view list's paths were made relative to base when read
            listed = [s for s in (command, "options") if name in doc.get(s, {})]
            if flag:
                values[name], sources[name] = parse_views(flag), "flag"
            elif listed:
                values[name], sources[name] = doc[listed[0]][name], f"{path}[{listed[0]}]"
            elif "views" in doc:
                values[name] = parse_views(doc["views"], base=base)
                sources[name] = f"{path}[views]"
            else:
                values[name], sources[name] = (), "default"
            continue
        if flag is not None:
            if opt.kind == "ints":
                flag = parse_ints(flag, name)
            elif opt.kind == "choices":
                flag = parse_choices(flag, opt.choices, name)
            elif opt.kind == "choice" and flag not in opt.choices:
                raise UsageError(f"{opt.flag} {flag!r}: choose one of {', '.join(opt.choices)}")
            values[name], sources[name] = flag, "flag"
            continue
        found = False
        for section in (command, "data" if name in DATA_KEYS else "options"):
            body = doc.get(section, {})
            if name in body:
                value = body[name]
                if opt.kind == "path" and base is not None and value != STDOUT:
                    value = str(base / value)
                values[name], sources[name] = value, f"{path}[{section}]"
                found = True
                break
        if not found:
            values[name], sources[name] = opt.default, "default"
    _check_ranges(values, sources)
    return Settings(
        command=command,
        values=values,
        sources=sources,
        config_path=str(path) if path is not None else None,
    )
