"""Reading the gate's inputs: a report JSON document and a rules TOML file's text.

Each reader raises :class:`~complement.errors.InputError` with a one-line message naming the
file and how to fix it; parsing the rules is :func:`complement.gate.parse_rules`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from complement.errors import InputError

__all__ = ["read_report", "read_rules_text"]


#: Largest report read: complement's reports are kilobytes to a few megabytes.
MAX_REPORT_BYTES = 256 * 1024 * 1024
#: Deepest nesting accepted: complement's reports nest about a dozen levels.
MAX_DEPTH = 200


def _depth_over(doc: Any, limit: int) -> bool:
    """Whether ``doc`` nests lists and objects more than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def read_report(path: str | Path, which: str) -> Any:
    """The parsed JSON of the ``which`` report (``"baseline"``, ``"current"``) at ``path``.

    Refused with one line: a missing, unreadable or non-regular file (a pipe or device would
    block or never end), a file over :data:`MAX_REPORT_BYTES`, text that is not JSON, a
    number too long for Python to convert (over 4300 digits), and nesting deeper than
    :data:`MAX_DEPTH` levels (which Python's parser answers with a RecursionError).
    """
    p = Path(path)
    hint = "give a report written by complement --json"
    try:
        if p.exists() and not p.is_file() and not p.is_dir():
            raise InputError(
                f"{which} report {p}: not a regular file (a pipe, socket or device); save the "
                "report to a file and give its path"
            )
        if p.is_file() and p.stat().st_size > MAX_REPORT_BYTES:
            raise InputError(
                f"{which} report {p}: {p.stat().st_size / 2**20:.0f} MB, larger than any "
                f"report ({MAX_REPORT_BYTES // 2**20} MB at most); {hint}"
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{which} report {p}: file not found; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{which} report {p}: cannot be read ({exc}); give the path of a readable JSON file"
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{which} report {p}: not valid JSON ({exc}); {hint}") from None
    except RecursionError:
        raise InputError(
            f"{which} report {p}: not usable JSON (lists or objects nested too deeply to "
            f"read; complement accepts {MAX_DEPTH} levels); {hint}"
        ) from None
    except ValueError:
        # json.loads raises a plain ValueError for an integer of more than 4300 digits
        raise InputError(
            f"{which} report {p}: not usable JSON (it holds a number too long to read, more "
            f"than {sys.get_int_max_str_digits()} digits); {hint}"
        ) from None
    if _depth_over(doc, MAX_DEPTH):
        raise InputError(
            f"{which} report {p}: not usable JSON (lists or objects nested more than "
            f"{MAX_DEPTH} levels deep); {hint}"
        )
    return doc


def read_rules_text(path: str | Path) -> str:
    """The text of the gate rules TOML file at ``path`` (parsed by the gate)."""
    p = Path(path)
    try:
        if p.exists() and not p.is_file() and not p.is_dir():
            raise InputError(
                f"rules {p}: not a regular file (a pipe, socket or device); save the rules to a "
                "file and give its path"
            )
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"rules {p}: file not found; check --rules") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"rules {p}: cannot be read ({exc}); give the path of a readable TOML file"
        ) from None
