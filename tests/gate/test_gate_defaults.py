"""Default rules follow the baseline's sections and its headline k; the whole gate on them."""

from __future__ import annotations

import copy

import pytest
from gatedocs import report

from complement.errors import InputError
from complement.gate import default_rules, run_gate


def test_default_rules_follow_the_baseline():
    base = report()
    paths = {".".join(r.path) for r in default_rules(base)}
    assert "overlap.k.20.overlap" in paths
    assert {"hits.k.20.recall.semantic", "hits.k.20.recall.collaborative"} <= paths
    assert not any(p.startswith("probe") for p in paths)  # not run in the baseline
    assert run_gate(base, copy.deepcopy(base)).exit_code == 0
    damaged = report(recall_cf=0.05, ci_cf=(0.04, 0.06))
    result = run_gate(base, damaged)
    assert result.exit_code == 1
    assert [".".join(c.rule.path) for c in result.checks if c.regression] == [
        "hits.k.20.recall.collaborative"
    ]
    # a single-section document: paths relative to its root
    single = copy.deepcopy(base["overlap"])
    assert [".".join(r.path) for r in default_rules(single)] == ["k.20.overlap"]
    with pytest.raises(InputError, match="not a complement JSON document"):
        run_gate({"k": 1}, base)


def test_default_rules_use_the_headline_k():
    # no k = 20: the nearest k, the smaller one on a tie (complement.headline.headline_k)
    single = {"schema": "complement.overlap/1", "k": {}}
    for ks, expected in (([10, 30], "10"), ([5, 25, 50], "25"), ([20, 21], "20")):
        single["k"] = {str(k): {"overlap": 0.1} for k in ks}
        assert [".".join(r.path) for r in default_rules(single)] == [f"k.{expected}.overlap"]
    single["k"] = {}
    assert default_rules(single) == []
