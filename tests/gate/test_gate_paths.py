"""Finding a rule's value in a report: missing paths, sections not run, non-numbers."""

from __future__ import annotations

import pytest
from gatedocs import report, rule

from complement.errors import InputError
from complement.gate import evaluate


def test_missing_path_and_non_numbers_are_input_errors():
    base = report()
    with pytest.raises(InputError, match="does not exist in the baseline"):
        evaluate([rule("hits.k.50.recall.semantic", min=0)], base, base)
    with pytest.raises(InputError, match="section 'probe' was not run in the baseline report"):
        evaluate([rule("probe.capacities.linear.test.r2", min=0)], base, base)
    with pytest.raises(InputError, match="not a number"):
        evaluate([rule("probe.reason", min=0)], base, base)
    with pytest.raises(InputError, match="an object"):
        evaluate([rule("hits.k.20.recall", min=0)], base, base)
