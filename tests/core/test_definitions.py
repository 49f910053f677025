"""The ``definitions`` each diagnostic writes into its JSON name only options that exist, each
an option of one of the commands whose documents carry them (the report carries them all)."""

from __future__ import annotations

import importlib
import re

import pytest

from complement.config import COMMANDS, OPTIONS

#: core module -> the commands whose JSON carries its DEFINITIONS
CARRIED_BY = {
    "align": ("align",),
    "align_seeds": ("align",),
    "cka": ("overlap", "compare"),
    "compare": ("compare",),
    "diversity": ("hits", "oracle", "compare", "align"),
    "evaluation": ("hits", "oracle", "compare", "align"),
    "explain": ("explain",),
    "fusion": ("oracle", "align"),
    "hits": ("hits",),
    "multiple": ("compare",),
    "oracle": ("oracle",),
    "overlap": ("overlap",),
    "probe": ("probe",),
    "segments": ("hits", "oracle", "compare"),
    "shifts": ("probe",),
    "structure": ("structure",),
}
FLAGS = {opt.flag: name for name, opt in OPTIONS.items()}
FLAGS.update({f"--no-{o.flag[2:]}": n for n, o in OPTIONS.items() if o.kind == "bool"})


def _text(value: object) -> str:
    if isinstance(value, dict):
        return " ".join(_text(v) for v in value.values())
    return str(value)


@pytest.mark.parametrize("module", sorted(CARRIED_BY))
def test_definitions_name_options_of_their_commands(module):
    """probe's and structure's definitions named --alpha (oracle's fusion weight) for the
    ridge penalty, whose flag is --ridge-alpha."""
    definitions = importlib.import_module(f"complement.core.{module}").DEFINITIONS
    for flag in set(re.findall(r"--[a-z][a-z0-9-]*", _text(definitions))):
        assert flag in FLAGS, f"{module}: {flag} is no option"
        commands = CARRIED_BY[module]
        assert any(FLAGS[flag] in COMMANDS[c] for c in commands), f"{module}: {commands}, {flag}"
