"""Gate checks on hand-built documents: point and interval tests, bounds, direction, nulls."""

from __future__ import annotations

import copy

from gatedocs import report, rule

from complement.gate import Rule, evaluate


def test_point_and_interval_tests():
    base = report()
    # a drop of 0.03 with intervals [0.28, 0.32] vs [0.25, 0.29]: margin sqrt(2)*0.02 = 0.028,
    # 0.03 - 0.028 = 0.002 <= 0.01 -> pass
    cur = report(recall_cf=0.27, ci_cf=(0.25, 0.29))
    (check,) = evaluate([rule("hits.k.20.recall.collaborative", max_drop_abs=0.01)], base, cur)
    assert check.test == "interval" and not check.regression
    assert check.baseline == 0.30 and check.current == 0.27
    assert check.ci_path == "hits.k.20.recall.ci95.collaborative"
    (check,) = evaluate([rule("hits.k.10.recall.collaborative", min=0.1)], base, cur)
    assert check.ci_path == "hits.k.10.recall.collaborative.ci95"  # a {value, ci95} node
    # drop 0.12 - margin 0.028 = 0.092 > 0.01 -> regression, decided by the interval rule
    cur = report(recall_cf=0.18, ci_cf=(0.16, 0.20))
    (check,) = evaluate([rule("hits.k.20.recall.collaborative", max_drop_abs=0.01)], base, cur)
    assert check.regression and check.test == "interval" and "= 0.0917" in check.decided_by
    # the same drop within a larger tolerance passes
    (check,) = evaluate([rule("hits.k.20.recall.collaborative", max_drop_abs=0.1)], base, cur)
    assert not check.regression
    # without an interval in one report: the point test on the drop
    cur = report(recall_cf=0.285, ci_cf=None)
    (check,) = evaluate([rule("hits.k.20.recall.collaborative", max_drop_abs=0.01)], base, cur)
    assert check.test == "point" and check.regression  # 0.015 > 0.01
    (check,) = evaluate([rule("hits.k.20.recall.collaborative", max_drop_rel=0.06)], base, cur)
    assert check.test == "point" and not check.regression  # 0.015 <= 0.06 * 0.30


def test_min_max_direction_and_nulls():
    base, cur = report(), report(overlap=0.04)
    checks = evaluate([rule("overlap.k.20.overlap", min=0.05, max=0.5)], base, cur)
    assert [c.regression for c in checks] == [True, False]
    assert checks[0].test == "bound" and checks[0].ci_path == "overlap.k.20.ci95"
    # jaccard has no interval: the overlap's ci95 sibling is not taken for it
    (check,) = evaluate([rule("overlap.k.20.jaccard", max_drop_abs=0.0)], base, cur)
    assert check.test == "point" and check.ci_path is None
    # lower is better: an increase is the drop
    lower = Rule(path=("overlap", "k", "20", "jaccard"), bounds={"max_drop_abs": 0.01},
                 direction="lower")  # fmt: skip
    higher = copy.deepcopy(cur)
    higher["overlap"]["k"]["20"]["jaccard"] = 0.07
    assert evaluate([lower], base, higher)[0].regression
    assert not evaluate([lower], higher, base)[0].regression
    nulled = copy.deepcopy(cur)
    nulled["overlap"]["k"]["20"]["jaccard"] = None
    assert evaluate([rule("overlap.k.20.jaccard", max_drop_abs=1)], base, nulled)[0].regression
    assert not evaluate([rule("overlap.k.20.jaccard", max_drop_abs=0)], nulled, base)[0].regression
