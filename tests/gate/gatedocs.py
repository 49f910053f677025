"""Hand-built report documents and rules for the gate tests (imported by those tests)."""

from __future__ import annotations

from typing import Any

from complement.gate import Rule


def report(recall_cf=0.30, ci_cf=(0.28, 0.32), overlap=0.10, cutoff=100.0, sha="abc") -> Any:
    return {
        "schema": "complement.report/1",
        "overlap": {
            "schema": "complement.overlap/1",
            "k": {
                "20": {
                    "overlap": overlap,
                    "jaccard": 0.05,
                    "ci95": [overlap - 0.01, overlap + 0.01],
                }
            },
        },
        "hits": {
            "schema": "complement.hits/1",
            "k": {
                "10": {"recall": {"collaborative": {"value": 0.2, "ci95": [0.19, 0.21]}}},
                "20": {
                    "recall": {
                        "semantic": 0.10,
                        "collaborative": recall_cf,
                        "ci95": {"semantic": [0.09, 0.11], "collaborative": ci_cf and list(ci_cf)},
                    }
                },
            },
        },
        "probe": {"status": "not run", "reason": "no log"},
        "provenance": {
            "n_items": 100,
            "item_universe_sha256": sha,
            "split": {"kind": "temporal", "cutoff": cutoff, "test_frac": 0.2, "n_test": 5},
            "config": {"values": {"metric": "cosine"}},
        },
        "timings": {"total": 1.0},
    }


def rule(path, **bounds) -> Rule:
    return Rule(path=tuple(path.split(".")), bounds=bounds)
