"""Non-finite values in the gate: a missing or NaN interval is no interval, never a pass.

A report whose interval for a value is ``[null, null]`` (complement writes NaN as null), a
``NaN``/``Infinity`` literal (not JSON, but Python's parser reads it), or a one-sided interval
falls back to the point test, so a drop from 0.180 to 0 is a regression whatever its interval
says. A value that is itself NaN or infinite where the gate needs a number, and a rule bound
that is, are bad input: exit 2 with one line.
"""

from __future__ import annotations

import json
import math

import pytest
from gatedocs import report, rule

from complement.cli.app import app
from complement.errors import ComplementError, ConfigError, InputError
from complement.gate import Rule, evaluate, run_gate
from complement.io.reports import read_report

NAN, INF = math.nan, math.inf
PATH = "hits.k.20.recall.collaborative"


def _drop(ci_cf):
    """The baseline at 0.180 with a proper interval; the current at 0 with ``ci_cf``."""
    return report(recall_cf=0.180, ci_cf=(0.168, 0.192)), report(recall_cf=0.0, ci_cf=ci_cf)


@pytest.mark.parametrize(
    "ci_cf",
    [(None, None), (NAN, NAN), (0.0, None), (None, 0.01), (NAN, 0.01), (-INF, INF), (0.0, INF)],
    ids=["null-null", "nan-nan", "lo-only", "hi-only", "nan-lo", "infinite", "inf-hi"],
)
def test_missing_or_nonfinite_interval_is_no_interval(ci_cf):
    base, cur = _drop(ci_cf)
    (check,) = evaluate([rule(PATH, max_drop_abs=0.01)], base, cur)
    assert check.test == "point" and check.regression, check
    assert check.current_ci95 is None
    assert check.decided_by == "point: drop 0.18 > tol 0.01"
    # the same interval in the baseline only, and in both, decides alike
    (check,) = evaluate([rule(PATH, max_drop_abs=0.01)], cur, base)
    assert check.test == "point" and not check.regression  # a rise is no drop
    both = report(recall_cf=0.180, ci_cf=ci_cf)
    (check,) = evaluate([rule(PATH, max_drop_abs=0.01)], both, cur)
    assert check.test == "point" and check.regression


def test_finite_intervals_still_use_the_interval_test():
    base, cur = _drop((0.0, 0.0))
    (check,) = evaluate([rule(PATH, max_drop_abs=0.01)], base, cur)
    assert check.test == "interval" and check.regression
    # a noisy small drop passes on the interval test, and still does
    cur = report(recall_cf=0.175, ci_cf=(0.163, 0.187))
    (check,) = evaluate([rule(PATH, max_drop_abs=0.01)], report(recall_cf=0.18), cur)
    assert check.test == "interval" and not check.regression


def test_nan_interval_read_from_a_file_is_a_regression(tmp_path):
    """The whole path: a file holding NaN literals, read and gated with the default rules."""
    base, cur = _drop((NAN, NAN))
    (tmp_path / "cur.json").write_text(json.dumps(cur))  # json.dumps writes NaN literals
    assert "NaN" in (tmp_path / "cur.json").read_text()
    parsed = read_report(tmp_path / "cur.json", "current")
    result = run_gate(base, parsed, [rule(PATH, max_drop_abs=0.01)], rules_source="test")
    assert result.exit_code == 1 and result.regressions == 1
    assert result.checks[0].to_dict()["test"] == "point"


def _gate(runner, tmp_path, base, cur, rules=None):
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "cur.json").write_text(json.dumps(cur))
    argv = ["gate", str(tmp_path / "cur.json"), "--baseline", str(tmp_path / "base.json")]
    if rules is not None:
        (tmp_path / "gate.toml").write_text(rules)
        argv += ["--rules", str(tmp_path / "gate.toml")]
    return runner.invoke(app, [*argv, "--json", str(tmp_path / "verdicts.json")])


def _one_line(result) -> str:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("complement: error: "), lines[0]
    return lines[0]


RULE = f'[[rule]]\npath = "{PATH}"\nmax_drop_abs = 0.01\n'


@pytest.mark.parametrize("ci_cf", [(None, None), (NAN, NAN), (-INF, INF)])
def test_cli_gate_fails_a_drop_whose_interval_is_missing(runner, tmp_path, ci_cf):
    base, cur = _drop(ci_cf)
    result = _gate(runner, tmp_path, base, cur, RULE)
    assert result.exit_code == 1, result.output
    doc = json.loads((tmp_path / "verdicts.json").read_text())
    (check,) = doc["checks"]
    assert check["verdict"] == "regression" and check["test"] == "point"
    assert check["current_ci95"] is None
    # the default rules decide the same way
    result = _gate(runner, tmp_path, base, cur)
    assert result.exit_code == 1, result.output
    doc = json.loads((tmp_path / "verdicts.json").read_text())
    failed = {c["path"] for c in doc["checks"] if c["verdict"] == "regression"}
    assert PATH in failed


@pytest.mark.parametrize(("value", "shown"), [(NAN, "NaN"), (INF, "Infinity"), (-INF, "-Infinity")])
@pytest.mark.parametrize("which", ["current", "baseline"])
def test_nonfinite_value_is_bad_input(runner, tmp_path, value, shown, which):
    base, cur = report(), report()
    doc = cur if which == "current" else base
    doc["hits"]["k"]["20"]["recall"]["collaborative"] = value
    result = _gate(runner, tmp_path, base, cur, RULE)
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert f"path '{PATH}' in the {which} report is {shown}, not a finite number" in line
    assert "complement --json" in line
    # the library raises the same error for parsed documents
    with pytest.raises(InputError, match="not a finite number"):
        evaluate([rule(PATH, max_drop_abs=0.01)], base, cur)


def test_overflowing_number_is_bad_input(runner, tmp_path):
    """``1e999`` parses to infinity: refused like the Infinity literal."""
    base = report()
    text = json.dumps(report()).replace('"collaborative": 0.3,', '"collaborative": 1e999,', 1)
    assert "1e999" in text
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "cur.json").write_text(text)
    (tmp_path / "gate.toml").write_text(RULE)
    argv = ["gate", tmp_path / "cur.json", "--baseline", tmp_path / "base.json"]
    result = runner.invoke(app, [*map(str, argv), "--rules", str(tmp_path / "gate.toml")])
    assert result.exit_code == 2, result.output
    assert "is Infinity, not a finite number" in _one_line(result)


def test_null_value_keeps_its_meaning():
    """null (what complement writes for NaN) is no value: a regression in the current report
    where the baseline has a number, a pass in the baseline only (nothing to drop from)."""
    base, cur = report(), report(recall_cf=None, ci_cf=None)
    (check,) = evaluate([rule(PATH, max_drop_abs=0.01)], base, cur)
    assert check.test == "null" and check.regression
    (check,) = evaluate([rule(PATH, max_drop_abs=0.01)], cur, base)
    assert check.test == "null" and not check.regression
    (check,) = evaluate([rule(PATH, min=0.0)], base, cur)
    assert check.regression  # a bound on a missing value fails


@pytest.mark.parametrize(
    ("bound", "text"),
    [("min", "nan"), ("max", "inf"), ("max_drop_abs", "inf"), ("max_drop_rel", "-nan")],
)
def test_nonfinite_rule_bound_is_bad_input(runner, tmp_path, bound, text):
    rules = f'[[rule]]\npath = "{PATH}"\n{bound} = {text}\n'
    result = _gate(runner, tmp_path, report(), report(), rules)
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "gate.toml rule 1" in line and f"{bound} = " in line and "must be finite" in line


@pytest.mark.parametrize("limit", [NAN, INF, -INF])
def test_rule_built_in_python_refuses_a_nonfinite_bound(limit):
    with pytest.raises(ConfigError, match="must be finite"):
        Rule(path=tuple(PATH.split(".")), bounds={"min": limit})
    with pytest.raises(ComplementError, match="must be a number"):
        Rule(path=tuple(PATH.split(".")), bounds={"min": "0.1"})  # type: ignore[dict-item]


@pytest.mark.parametrize("value", [NAN, INF])
def test_nonfinite_split_property_is_bad_input_not_a_difference(runner, tmp_path, value):
    """A NaN cutoff never equals itself: it must not read as 'not comparable' (exit 3)."""
    base, cur = report(), report(cutoff=value)
    result = _gate(runner, tmp_path, base, cur, RULE)
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "the current report's split cutoff is" in line and "not a finite number" in line
    with pytest.raises(InputError, match="baseline report's split cutoff"):
        run_gate(cur, base, [rule(PATH, max_drop_abs=0.01)])


@pytest.mark.parametrize(
    ("rules", "says"),
    [
        ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        ("[[rule]]\npath = 'a.b'\nmin = " + "7" * 5000 + "\n", "more than 4300 digits"),
    ],
    ids=["nested-100000-deep", "5000-digit-number"],
)
def test_hostile_rules_file_is_one_line(runner, tmp_path, rules, says):
    result = _gate(runner, tmp_path, report(), report(), rules)
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "gate.toml: not usable TOML" in line and says in line and "fix the file" in line


@pytest.mark.parametrize("which", ["current", "baseline", "rules"])
def test_fifo_inputs_are_refused_without_blocking(runner, tmp_path, which):
    """A FIFO given as a report or a rules file would block the read forever."""
    import os

    (tmp_path / "ok.json").write_text(json.dumps(report()))
    (tmp_path / "gate.toml").write_text(RULE)
    os.mkfifo(tmp_path / "pipe")
    paths = {"current": tmp_path / "ok.json", "baseline": tmp_path / "ok.json"}
    rules = tmp_path / "gate.toml"
    if which == "rules":
        rules = tmp_path / "pipe"
    else:
        paths[which] = tmp_path / "pipe"
    argv = ["gate", paths["current"], "--baseline", paths["baseline"], "--rules", rules]
    result = runner.invoke(app, [str(a) for a in argv])
    assert result.exit_code == 2, result.output
    assert "pipe: not a regular file (a pipe, socket or device)" in _one_line(result)
