"""Comparability of two reports: split, item universe, schema; exit 3 unless allowed."""

from __future__ import annotations

import copy

from gatedocs import report

from complement.gate import check_comparable, run_gate


def test_comparability():
    base = report()
    assert check_comparable(base, copy.deepcopy(base)).ok
    other = report(cutoff=200.0)
    comp = check_comparable(base, other)
    assert not comp.ok and comp.reasons == ["split cutoff differs (baseline 100.0, current 200.0)"]
    assert not check_comparable(base, report(sha="def")).ok
    single = {"schema": "complement.overlap/1", "k": {}}
    assert [c["what"] for c in check_comparable(base, single).checks if not c["same"]][
        0
    ] == "schema"
    result = run_gate(base, other)
    assert result.exit_code == 3 and result.checks == []
    result = run_gate(base, other, allow_incomparable=True)
    assert result.exit_code == 0 and result.checks
