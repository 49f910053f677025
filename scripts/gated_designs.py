"""Compare the two designs of the ``gated`` fusion on one configuration (docs/definitions.md).

Runs ``complement oracle`` twice on the same inputs: once as shipped (``gated`` = the union
re-ranker of complement.core.rerank) and once with ``gated`` replaced by the per-user weight
tree of complement.core.gated, and prints, per K, the best view, score interpolation and each
design's Recall@K, headroom shares of the budget and select oracles, and paired p-value.

    .venv/bin/python scripts/gated_designs.py fixtures/movielens-100k/complement.toml
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import complement.core.oracle as oracle_core
from complement.cli.app import app
from complement.core.gated import Gate, fit_gate, gate_features
from complement.core.interpolation import mixture_ranked


def _run(config: str, out: Path) -> dict[str, Any]:
    args = ["oracle", "--config", config, "--n-boot", "1000", "--quiet", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise SystemExit(result.output)
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def _tree_design() -> None:
    """Make ``gated`` the tree gate (fitted on the same validation phase)."""
    seen: dict[str, Any] = {}
    choose = oracle_core.choose_alpha

    def capture(ev_valid: Any, sv_valid: Any, ks: Any, backend: Any, **kw: Any) -> Any:
        seen["search"] = choose(ev_valid, sv_valid, ks, backend, **kw)
        seen["ev_valid"], seen["backend"] = ev_valid, backend
        return seen["search"]

    def fit(ev_valid: Any, sv_valid: Any, view_lists: Any, k: int) -> Gate:
        return fit_gate(seen["search"], ev_valid, k, seed=0)

    def ranked(ev: Any, sv: Any, gate: Gate, views: Any) -> Any:
        features = gate_features(ev, views["semantic"], views["collaborative"], gate.k)
        return mixture_ranked(ev, sv, gate.weights(features), gate.k, seen["backend"])

    oracle_core.choose_alpha = capture  # type: ignore[assignment]
    oracle_core.fit_reranker = fit  # type: ignore[assignment]
    oracle_core.gated_ranked = ranked  # type: ignore[assignment]


def main(config: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shipped = _run(config, Path(tmp) / "rerank.json")
        _tree_design()
        tree = _run(config, Path(tmp) / "tree.json")
    print("K   best view          interp  rerank (hb, hs, p)          tree (hb, hs, p)")
    for k, row in shipped["k"].items():
        interp = row["fusion"]["score_interpolation"]["recall"]
        cells = []
        for doc in (shipped, tree):
            g = doc["k"][k]["fusion"]["gated"]
            cells.append(
                f"{g['recall']:.4f} ({g['headroom']:+.3f}, {g['headroom_select']:+.3f}, "
                f"{g['p_value']:.3f})"
            )
        best = row["best_single"]
        print(f"{k:<3} {best['view']:<13} {best['recall']:.4f}  {interp:.4f}  {'  '.join(cells)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fixtures/movielens-100k/complement.toml")
