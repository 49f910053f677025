"""Gate rules from TOML text: paths, bounds, direction, ci, and one error per malformed file."""

from __future__ import annotations

import pytest

from complement.errors import ConfigError
from complement.gate import parse_rules


def test_parse_rules_and_malformed_files():
    rules, include = parse_rules(
        'defaults = true\n[[rule]]\npath = "a.b"\nmax_drop_rel = 0.05\ndirection = "lower"\n'
        '[[rule]]\npath = ["x", "1"]\nmin = 0\nci = false\n',
        "r.toml",
    )
    assert include and rules[0].path == ("a", "b") and rules[0].direction == "lower"
    assert rules[1].path == ("x", "1") and rules[1].ci is None
    bad = {
        "[[rule\n": "not valid TOML",
        "[[rule]]\nmin = 1\n": "missing path",
        '[[rule]]\npath = "a"\n': "no bound",
        '[[rule]]\npath = "a"\nmin = "x"\n': "must be a number",
        '[[rule]]\npath = "a"\nmax_drop_abs = -1\n': "must be >= 0",
        '[[rule]]\npath = "a"\nmin = 1\ntolerance = 2\n': "unknown key 'tolerance'",
        '[[rule]]\npath = "a..b"\nmin = 1\n': "empty component",
        '[[rule]]\npath = "a"\nmin = 1\ndirection = "up"\n': "direction",
        "[rules]\n": "unknown key 'rules'",
        "": "no [[rule]] given",
    }
    for text, message in bad.items():
        with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
            parse_rules(text, "r.toml")
