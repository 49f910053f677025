"""Reading the gate's inputs: a report JSON file and a rules TOML file, one error per failure."""

from __future__ import annotations

import pytest

from complement.errors import InputError
from complement.io.reports import read_report, read_rules_text


def test_read_report(tmp_path):
    good = tmp_path / "report.json"
    good.write_text('{"schema": "complement.report/1", "k": [1, 2]}', encoding="utf-8")
    assert read_report(good, "current") == {"schema": "complement.report/1", "k": [1, 2]}
    assert read_report(str(good), "baseline")["k"] == [1, 2]


def test_read_report_errors(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(InputError) as e:
        read_report(missing, "baseline")
    assert str(e.value) == f"baseline report {missing}: file not found; check the path"
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": ', encoding="utf-8")
    with pytest.raises(InputError, match=r"current report .*broken\.json: not valid JSON \(") as e:
        read_report(broken, "current")
    assert str(e.value).endswith("; give a report written by complement --json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(InputError, match=r"current report .*binary\.json: cannot be read \(") as e:
        read_report(binary, "current")
    assert str(e.value).endswith("; give the path of a readable JSON file")
    with pytest.raises(InputError, match="cannot be read"):
        read_report(tmp_path, "baseline")  # a directory


def test_read_rules_text(tmp_path):
    rules = tmp_path / "gate.toml"
    rules.write_text('[[rule]]\npath = "a.b"\nmin = 0\n', encoding="utf-8")
    assert read_rules_text(rules) == '[[rule]]\npath = "a.b"\nmin = 0\n'
    with pytest.raises(InputError) as e:
        read_rules_text(tmp_path / "nope.toml")
    assert str(e.value) == f"rules {tmp_path / 'nope.toml'}: file not found; check --rules"
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match=r"^rules .*binary\.toml: cannot be read \(") as e:
        read_rules_text(binary)
    assert str(e.value).endswith("; give the path of a readable TOML file")
