"""Comparability of two reports: split, item universe, schema; exit 3 unless allowed."""

from __future__ import annotations

import copy

import pytest
from gatedocs import report

from complement.errors import InputError
from complement.gate import check_comparable, not_comparable_error, run_gate


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


# --- what defines the evaluation: probe shifts, the log, the split's seed, the cut-offs ---

SHA_LOG = "59d0e1528751be8c8b704cd641566830d68b7e97180b898fc499f60449055a5b"
SHA_LOG_OTHER = "50c6dc8edc7c" + "0" * 52


def evaluated(**change) -> dict:
    """A report laid out as complement writes one (probe run, inputs, k), then changed:
    each keyword is a dotted path (``__`` for the dots) set to its value."""
    doc = report()
    doc["probe"] = {
        "schema": "complement.probe/1",
        "direction": "sem2cf",
        "shift": {"kind": "popularity", "n_train": 80, "n_test": 20, "tail_frac": 0.2,
                  "max_test_count": 3},
        "reference_shift": {"kind": "random", "n_train": 80, "n_test": 20, "test_frac": 0.2,
                            "seed": 0},
        "capacities": {"linear": {"test": {"r2": 0.1}}},
    }  # fmt: skip
    prov = doc["provenance"]
    prov["split"].update(
        {"valid_cutoff": 90.0, "valid_frac": 0.1, "seed": None, "n_train": 70, "n_valid": 10}
    )
    prov["config"]["values"]["k"] = [10, 20]
    prov["inputs"] = {
        "semantic": {"sha256": "1" * 64},
        "collaborative": {"sha256": "2" * 64},
        "interactions": {"sha256": SHA_LOG},
    }
    for key, value in change.items():
        *parents, leaf = key.split("__")
        node = doc
        for part in parents:
            node = node[part]
        node[leaf] = value
    return doc


def _differs(base, cur) -> list[str]:
    return check_comparable(base, cur).reasons


def test_new_embeddings_are_comparable():
    """The embeddings changing is what the gate is for: their hashes are never compared."""
    base = evaluated()
    cur = evaluated(
        provenance__inputs={**base["provenance"]["inputs"], "collaborative": {"sha256": "3" * 64},
                            "semantic": {"sha256": "4" * 64}},
    )  # fmt: skip
    comp = check_comparable(base, cur)
    assert comp.ok, comp.reasons
    whats = [c["what"] for c in comp.checks]
    assert "interaction log sha256" in whats and "probe shift kind" in whats and "k list" in whats
    assert not any("sha256" in w and ("semantic" in w or "collaborative" in w) for w in whats)


def test_a_different_probe_shift_is_not_comparable_in_either_direction():
    base = evaluated()
    shifted = evaluated(
        probe__shift={"kind": "random", "n_train": 80, "n_test": 20, "test_frac": 0.2, "seed": 0}
    )
    assert _differs(base, shifted) == [
        "probe shift kind differs (baseline popularity, current random)"
    ]
    assert _differs(shifted, base) == [
        "probe shift kind differs (baseline random, current popularity)"
    ]
    for a, b in ((base, shifted), (shifted, base)):
        assert run_gate(a, b).exit_code == 3
        assert run_gate(a, b, allow_incomparable=True).checks
    # a setting of the same kind, and the reference shift's seed, count too
    tail = evaluated(probe__shift={**base["probe"]["shift"], "tail_frac": 0.3})
    assert _differs(base, tail) == ["probe shift tail_frac differs (baseline 0.2, current 0.3)"]
    reference = evaluated(probe__reference_shift={**base["probe"]["reference_shift"], "seed": 1})
    assert _differs(base, reference) == [
        "probe reference shift seed differs (baseline 0, current 1)"
    ]
    # what follows from the settings (counts) is not a setting
    counts = evaluated(probe__shift={**base["probe"]["shift"], "max_test_count": 4})
    assert check_comparable(base, counts).ok
    assert _differs(base, evaluated(probe__direction="cf2sem")) == [
        "probe direction differs (baseline sem2cf, current cf2sem)"
    ]
    # a probe run by one report only is left to the rules (section not run: exit 2)
    not_run = evaluated(probe={"status": "not run", "reason": "no log"})
    comp = check_comparable(base, not_run)
    assert comp.ok and not any(c["what"].startswith("probe") for c in comp.checks)


def test_a_different_interaction_log_is_not_comparable():
    base = evaluated()
    other_log = evaluated(
        provenance__inputs={**base["provenance"]["inputs"],
                            "interactions": {"sha256": SHA_LOG_OTHER}},
    )  # fmt: skip
    assert _differs(base, other_log) == [
        "interaction log sha256 differs (baseline 59d0e1528751…, current 50c6dc8edc7c…)"
    ]
    assert run_gate(base, other_log).exit_code == 3
    # without the hashes, the split's sizes still tell
    fewer = evaluated(provenance__split={**base["provenance"]["split"], "n_test": 3})
    del fewer["provenance"]["inputs"]["interactions"]
    assert _differs(base, fewer) == [
        "split size in rows (train, valid, test) differs (baseline [70, 10, 5], "
        "current [70, 10, 3])"
    ]
    assert run_gate(base, fewer).exit_code == 3
    assert run_gate(base, fewer, allow_incomparable=True).exit_code == 0


def test_the_seed_of_a_random_split_is_compared():
    split = {"kind": "random", "cutoff": None, "test_frac": 0.2, "seed": 0, "n_test": 5}
    seed0 = evaluated(provenance__split=split)
    seed1 = evaluated(provenance__split={**split, "seed": 1})
    assert _differs(seed0, seed1) == ["split seed differs (baseline 0, current 1)"]
    assert run_gate(seed0, seed1).exit_code == 3
    assert run_gate(seed0, seed1, allow_incomparable=True).exit_code == 0
    # the validation part is part of the split too
    valid = evaluated(provenance__split={**split, "valid_frac": 0.2})
    assert _differs(seed0, valid) == ["split valid_frac differs (baseline null, current 0.2)"]


def test_a_different_k_list_is_not_comparable():
    base = evaluated()
    fewer = evaluated(provenance__config__values__k=[10, 50])
    assert _differs(base, fewer) == ["k list differs (baseline [10, 20], current [10, 50])"]
    result = run_gate(base, fewer)
    assert result.exit_code == 3 and result.checks == []
    assert "k list differs" in str(not_comparable_error(result))
    # compared anyway: the default rules use a k both reports hold
    only10 = copy.deepcopy(base)
    only10["provenance"]["config"]["values"]["k"] = [10]
    del only10["overlap"]["k"]["20"], only10["hits"]["k"]["20"]
    only10["overlap"]["k"]["10"] = copy.deepcopy(base["overlap"]["k"]["20"])
    base["overlap"]["k"]["10"] = copy.deepcopy(base["overlap"]["k"]["20"])
    result = run_gate(base, only10, allow_incomparable=True)
    assert result.exit_code == 0
    assert {".".join(c.rule.path) for c in result.checks} >= {
        "overlap.k.10.overlap",
        "hits.k.10.recall.collaborative",
    }
    # no k in common: one clear line naming the default rule and the changed k list
    del only10["overlap"]["k"]["10"]
    only10["overlap"]["k"]["50"] = copy.deepcopy(base["overlap"]["k"]["20"])
    with pytest.raises(InputError) as info:
        run_gate(base, only10, allow_incomparable=True)
    message = str(info.value)
    assert "built-in default rule on 'overlap.k.20.overlap' needs k = 20" in message
    assert "its k: 50; the baseline's: 10, 20" in message and "the k list changed" in message
    assert "\n" not in message


def test_a_nonfinite_value_in_a_list_is_bad_input():
    base = evaluated()
    bad = evaluated(provenance__split={**base["provenance"]["split"], "n_test": float("nan")})
    with pytest.raises(InputError, match="current report's split size in rows"):
        check_comparable(base, bad)


HISTORY = "cosine to the mean of the user's L2-normalised history items"
USERS = "inner product with user embeddings"


def test_a_different_scoring_of_a_views_users_is_not_comparable():
    """cf_users in one report only: Recall computed two ways is not a regression to gate."""
    base = evaluated()
    for section in ("hits", "oracle"):
        base.setdefault(section, {})["scoring"] = {"semantic": HISTORY, "collaborative": USERS}
    cur = copy.deepcopy(base)
    for section in ("hits", "oracle"):
        cur[section]["scoring"]["collaborative"] = HISTORY
    comp = check_comparable(base, cur)
    assert [c["what"] for c in comp.checks if c["what"].endswith("semantic")] == [
        "hits scoring of semantic", "oracle scoring of semantic",
    ]  # fmt: skip
    assert comp.reasons == [
        f"{s} scoring of collaborative differs (baseline {USERS}, current {HISTORY})"
        for s in ("hits", "oracle")
    ]
    result = run_gate(cur, base)
    assert result.exit_code == 3 and result.checks == []
    assert "hits scoring of collaborative differs" in str(not_comparable_error(result))
    assert run_gate(cur, base, allow_incomparable=True).exit_code in (0, 1)
    assert check_comparable(base, copy.deepcopy(base)).ok
    # a section only one report ran is left to the rules; a single document's own scoring
    del cur["oracle"]
    cur["hits"]["scoring"]["collaborative"] = USERS
    assert check_comparable(base, cur).ok
    single = {"schema": "complement.hits/1", "scoring": {"semantic": HISTORY, "cf": USERS}}
    other = {"schema": "complement.hits/1", "scoring": {"semantic": HISTORY, "cf": HISTORY}}
    assert _differs(single, other) == [
        f"scoring of cf differs (baseline {USERS}, current {HISTORY})"
    ]
