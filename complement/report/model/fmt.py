"""Number formatting: one convention per kind of figure, used by every table and renderer.

==========================================  ===============================  ============
kind of figure                              function                         example
==========================================  ===============================  ============
mean, rate, share, correlation, R², p-value ``fmt``                          ``0.043``
its 95% interval                            ``fmt_ci``                       ``[0.039, 0.047]``
chance level, recall on the probe's items   ``fmt(value, 4)``                ``0.0059``
relative change: gain, headroom, drop       ``pct``                          ``-265.8%``
difference of two means (paired Δ)          ``signed``                       ``-0.003``
ratio to chance                             ``fmt(value, 1)``                ``7.2``
count                                       ``count``                        ``19633``
a compared figure of any scale (gate)       ``sig`` / ``signed_sig``         ``0.06216``
a parameter (cut-off, fraction, α)          ``param``                        ``0.2``
==========================================  ===============================  ============

Missing or non-finite values are ``–`` everywhere.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "MISSING",
    "count",
    "fmt",
    "fmt_ci",
    "param",
    "pct",
    "sig",
    "signed",
    "signed_sig",
]

MISSING = "–"


def _number(value: Any) -> float | None:
    """A finite float, or None for anything else (None, NaN, text, booleans)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _zero_unsigned(number: float, digits: int) -> float:
    """``number``, or +0.0 when it rounds to zero (so no ``-0.000``)."""
    return 0.0 if round(number, digits) == 0 else number


def fmt(value: Any, digits: int = 3) -> str:
    """A mean, rate, share, correlation, R² or p-value: fixed decimals (3 by default)."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{_zero_unsigned(number, digits):.{digits}f}"


def fmt_ci(ci: Any, digits: int = 3) -> str:
    """A 95% interval ``[lo, hi]`` with the decimals of its estimate."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return MISSING
    return f"[{fmt(ci[0], digits)}, {fmt(ci[1], digits)}]"


def pct(value: Any, digits: int = 1) -> str:
    """A relative change (a fraction) as a signed percentage: 0.113 -> ``+11.3%``."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{_zero_unsigned(100 * number, digits):+.{digits}f}%"


def signed(value: Any, digits: int = 3) -> str:
    """A difference of two means, always with its sign: ``+0.001``, ``-0.033``."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{_zero_unsigned(number, digits):+.{digits}f}"


def count(value: Any) -> str:
    """A count: the plain integer."""
    if isinstance(value, bool):
        return MISSING
    if isinstance(value, int):
        return str(value)
    number = _number(value)
    if number is None:
        return MISSING
    return str(int(number)) if number.is_integer() else f"{number:g}"


def sig(value: Any, digits: int = 4) -> str:
    """A figure of unknown scale (the gate's compared values): significant digits."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number:.{digits}g}"


def signed_sig(value: Any, digits: int = 4) -> str:
    """The signed difference of two figures of unknown scale."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number:+.{digits}g}"


def param(value: Any) -> str:
    """A parameter as given (a cut-off time, a fraction, a seed): up to 10 significant digits."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.10g}" if math.isfinite(value) else MISSING
    return str(value)
