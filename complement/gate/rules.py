"""Gate rules: the :class:`Rule` record, its parsing from TOML text, and dotted-path splitting.

A rule names a JSON path (dotted, ``hits.k.20.recall.collaborative``; list items by position),
one or more bounds (``max_drop_abs``, ``max_drop_rel``, ``min``, ``max``), the direction in which
the value is better, and how to find its 95% interval. Pure functions over text; nothing here
reads files.
"""

from __future__ import annotations

import math
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from complement.config import toml_value
from complement.errors import ConfigError

__all__ = [
    "BOUNDS",
    "KeyPath",
    "Rule",
    "dotted",
    "parse_rules",
    "split_path",
]

BOUNDS = ("max_drop_abs", "max_drop_rel", "min", "max")
_RULE_KEYS = {"path", "direction", "ci", "name", *BOUNDS}

#: a path into a JSON document, one key (or list position, as a string) per component
KeyPath = tuple[str, ...]


def split_path(raw: Any, where: str) -> KeyPath:
    """A dotted string (or a list of keys and positions) as a path; ConfigError otherwise."""
    if isinstance(raw, str):
        parts = tuple(raw.split("."))
    elif isinstance(raw, list) and all(isinstance(p, (str, int)) for p in raw):
        parts = tuple(str(p) for p in raw)
    else:
        raise ConfigError(f"{where}: path must be a dotted string such as 'overlap.k.20.overlap'")
    if not parts or any(p == "" for p in parts):
        raise ConfigError(f"{where}: path {raw!r} has an empty component")
    return parts


def dotted(path: KeyPath) -> str:
    """The dotted string form of a path."""
    return ".".join(path)


@dataclass(frozen=True)
class Rule:
    """One rule: a path, its bounds, and how to find its interval."""

    path: KeyPath
    bounds: Mapping[str, float]
    direction: str = "higher"
    ci: str | KeyPath | None = "auto"  # "auto", an explicit path, or None (no interval)
    name: str | None = None

    def __post_init__(self) -> None:
        # a NaN bound compares false with everything, so it would pass every value
        for name, limit in self.bounds.items():
            if isinstance(limit, bool) or not isinstance(limit, (int, float)):
                raise ConfigError(
                    f"rule {dotted(self.path)!r}: {name} = {limit!r} must be a number"
                )
            if not math.isfinite(limit):
                raise ConfigError(f"rule {dotted(self.path)!r}: {name} = {limit!r} must be finite")
        impossible = _impossible_bounds(self.bounds)
        if impossible:
            raise ConfigError(f"rule {dotted(self.path)!r}: {impossible}")

    def to_dict(self) -> dict[str, Any]:
        ci: Any = self.ci if isinstance(self.ci, str) or self.ci is None else dotted(self.ci)
        return {
            "path": dotted(self.path),
            "bounds": dict(self.bounds),
            "direction": self.direction,
            "ci": ci,
            "name": self.name,
        }


def _impossible_bounds(bounds: Mapping[str, float]) -> str | None:
    """Why no value can pass ``bounds`` (``min`` above ``max``), or None."""
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None and low > high:
        return (
            f"min = {low:g} is above max = {high:g}, so no value can pass; "
            "fix the bounds (min must be at most max)"
        )
    return None


def _parse_rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each [[rule]] must be a table with path = ... and a bound")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; a rule takes path, "
            f"{', '.join(BOUNDS)}, direction, ci, name"
        )
    if "path" not in raw:
        raise ConfigError(f"{where}: missing path = 'section.key...'")
    path = split_path(raw["path"], where)
    bounds: dict[str, float] = {}
    for name in BOUNDS:
        if name not in raw:
            continue
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {name} = {toml_value(value)} must be a number")
        if not math.isfinite(value):
            raise ConfigError(f"{where}: {name} = {toml_value(value)} must be finite")
        if name.startswith("max_drop") and value < 0:
            raise ConfigError(f"{where}: {name} = {value} must be >= 0")
        bounds[name] = float(value)
    if not bounds:
        raise ConfigError(f"{where}: rule {dotted(path)!r} has no bound; give {', '.join(BOUNDS)}")
    impossible = _impossible_bounds(bounds)
    if impossible:
        raise ConfigError(f"{where}: rule {dotted(path)!r}: {impossible}")
    direction = raw.get("direction", "higher")
    if direction not in ("higher", "lower"):
        raise ConfigError(
            f"{where}: direction = {toml_value(direction)} must be \"higher\" or \"lower\""
        )
    ci_raw = raw.get("ci", "auto")
    ci: str | KeyPath | None
    if ci_raw is False:
        ci = None
    elif ci_raw == "auto":
        ci = "auto"
    elif isinstance(ci_raw, (str, list)):
        ci = split_path(ci_raw, f"{where} ci")
    else:
        raise ConfigError(f"{where}: ci = {toml_value(ci_raw)} must be \"auto\", false or a path")
    label = raw.get("name")
    if label is not None and not isinstance(label, str):
        raise ConfigError(f"{where}: name = {toml_value(label)} must be a string")
    return Rule(path=path, bounds=bounds, direction=direction, ci=ci, name=label)


def parse_rules(text: str, where: str) -> tuple[list[Rule], bool]:
    """Rules from TOML text: ``[[rule]]`` tables, optional top-level ``defaults = true``.

    Returns (rules, include_defaults). ``where`` names the source in error messages.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"rules {where}: not valid TOML ({exc}); fix the file") from None
    except RecursionError:
        raise ConfigError(
            f"rules {where}: not usable TOML (arrays or tables nested too deeply to read); "
            "fix the file"
        ) from None
    except ValueError:  # an integer of more than 4300 digits (Python's conversion limit)
        raise ConfigError(
            f"rules {where}: not usable TOML (it holds a number too long to read, more than "
            f"{sys.get_int_max_str_digits()} digits); fix the file"
        ) from None
    unknown = sorted(set(doc) - {"rule", "defaults"})
    if unknown:
        raise ConfigError(
            f"rules {where}: unknown key {unknown[0]!r}; write [[rule]] tables "
            "(path = ..., max_drop_abs = ...) and optionally defaults = true"
        )
    include = doc.get("defaults", False)
    if not isinstance(include, bool):
        raise ConfigError(f"rules {where}: defaults = {toml_value(include)} must be true or false")
    raw_rules = doc.get("rule", [])
    if not isinstance(raw_rules, list):
        raise ConfigError(f"rules {where}: write each rule as a [[rule]] table")
    rules = [_parse_rule(r, f"rules {where} rule {i + 1}") for i, r in enumerate(raw_rules)]
    if not rules and not include:
        raise ConfigError(
            f"rules {where}: no [[rule]] given; add at least one or set defaults = true"
        )
    return rules, include
