"""Every array function ``complement`` exports refuses bad matrices on entry, in one family."""

from __future__ import annotations

import numpy as np
import pytest

import complement as cm
from complement.errors import ComplementError, InputError, UsageError
from complement.retrieval import get_backend

CPU = get_backend("cpu")
RNG = np.random.default_rng(0)
SEM = RNG.standard_normal((80, 8)).astype(np.float32)
CF = RNG.standard_normal((80, 4)).astype(np.float32)
NAN = np.where(SEM > 2, np.nan, SEM)

#: name -> call with (sem, cf); the other arguments are never reached
CALLS = {
    "item_overlap": lambda s, c: cm.item_overlap(s, c, [5], CPU),
    "linear_cka": lambda s, c: cm.linear_cka(s, c),
    "complement_hits": lambda s, c: cm.complement_hits(None, s, c, [5], CPU),
    "complement_oracle": lambda s, c: cm.complement_oracle(None, None, s, c, [5], CPU),
    "explain_item": lambda s, c: cm.explain_item(s, c, 0, 5, CPU, ids=np.arange(80)),
    "shared_structure": lambda s, c: cm.shared_structure(s, c),
    "run_probe": lambda s, c: cm.run_probe(s, c, None, None, ["linear"], CPU),
    "align": lambda s, c: cm.align(None, None, None, s, c, 10, ["ncn"], CPU),
}


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize(
    ("views", "error"),
    [
        ((SEM[:, 0], CF), InputError),
        ((SEM, CF[:10]), UsageError),
        ((NAN, CF), InputError),
        ((SEM, np.full_like(CF, np.inf)), InputError),
    ],
)
def test_bad_views_are_refused_on_entry(name, views, error):
    with pytest.raises(error) as caught:
        CALLS[name](*views)
    assert isinstance(caught.value, ComplementError)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["complement_hits", "complement_oracle", "align"])
def test_user_vectors_are_checked(name):
    users = np.full((5, 8), np.nan, dtype=np.float32)
    calls = {
        "complement_hits": lambda: cm.complement_hits(None, SEM, CF, [5], CPU, cf_users=users),
        "complement_oracle": lambda: cm.complement_oracle(
            None, None, SEM, CF, [5], CPU, sem_users=users
        ),
        "align": lambda: cm.align(None, None, None, SEM, CF, 10, ["ncn"], CPU, cf_users=users),
    }
    with pytest.raises(InputError, match="users"):
        calls[name]()


@pytest.mark.parametrize("name", ["complement_hits", "complement_oracle"])
def test_ks_of_the_user_level_functions(name):
    call = {
        "complement_hits": lambda ks: cm.complement_hits(None, SEM, CF, ks, CPU),
        "complement_oracle": lambda ks: cm.complement_oracle(None, None, SEM, CF, ks, CPU),
    }[name]
    with pytest.raises(UsageError, match="ks="):
        call(10.5)
