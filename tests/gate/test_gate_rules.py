"""Gate rules from TOML text: paths, bounds, direction, ci, and one error per malformed file."""

from __future__ import annotations

import pytest

from complement.errors import ConfigError
from complement.gate import Rule, parse_rules


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
        '[[rule]]\npath = "a"\nmin = "x"\n': 'min = "x" must be a number',
        '[[rule]]\npath = "a"\nmin = true\n': "min = true must be a number",
        '[[rule]]\npath = "a"\nmin = 1\nci = 3\n': 'ci = 3 must be "auto", false or a path',
        '[[rule]]\npath = "a"\nmin = 1\nname = 3\n': "name = 3 must be a string",
        'defaults = "yes"\n[[rule]]\npath = "a"\nmin = 1\n': 'defaults = "yes" must be true',
        '[[rule]]\npath = "a"\nmax_drop_abs = -1\n': "must be >= 0",
        '[[rule]]\npath = "a"\nmin = 1\ntolerance = 2\n': "unknown key 'tolerance'",
        '[[rule]]\npath = "a..b"\nmin = 1\n': "empty component",
        '[[rule]]\npath = "a"\nmin = 1\ndirection = "up"\n': 'direction = "up" must be "higher"',
        "[rules]\n": "unknown key 'rules'",
        "": "no [[rule]] given",
    }
    for text, message in bad.items():
        with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
            parse_rules(text, "r.toml")


def test_min_above_max_can_never_pass_and_is_refused():
    text = (
        '[[rule]]\npath = "a.b"\nmin = 0.05\n'
        '[[rule]]\npath = "overlap.k.20.overlap"\nmin = 0.1\nmax = 0.05\n'
    )
    with pytest.raises(ConfigError) as info:
        parse_rules(text, "gate.toml")
    message = str(info.value)
    assert message.startswith("rules gate.toml rule 2: rule 'overlap.k.20.overlap'")
    assert "min = 0.1 is above max = 0.05" in message and "no value can pass" in message
    assert "\n" not in message
    # equal bounds pin the value: allowed
    rules, _ = parse_rules('[[rule]]\npath = "a"\nmin = 0.1\nmax = 0.1\n', "gate.toml")
    assert dict(rules[0].bounds) == {"min": 0.1, "max": 0.1}
    # a rule built in Python is refused too
    with pytest.raises(ConfigError, match="rule 'a.b': min = 2 is above max = 1"):
        Rule(path=("a", "b"), bounds={"min": 2.0, "max": 1.0})
