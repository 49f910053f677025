"""Reading the gate's inputs: a report JSON document and a rules TOML file's text.

Each reader raises :class:`~complement.errors.InputError` with a one-line message naming the
file and how to fix it; parsing the rules is :func:`complement.gate.parse_rules`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from complement.errors import InputError

__all__ = ["read_report", "read_rules_text"]


def read_report(path: str | Path, which: str) -> Any:
    """The parsed JSON of the ``which`` report (``"baseline"``, ``"current"``) at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{which} report {p}: file not found; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{which} report {p}: cannot be read ({exc}); give the path of a readable JSON file"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{which} report {p}: not valid JSON ({exc}); "
            "give a report written by complement --json"
        ) from None


def read_rules_text(path: str | Path) -> str:
    """The text of the gate rules TOML file at ``path`` (parsed by the gate)."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"rules {p}: file not found; check --rules") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"rules {p}: cannot be read ({exc}); give the path of a readable TOML file"
        ) from None
