from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import FIXTURE


def _log(path, n_users=40, n_items=120, per_user=20, seed=3):
    rng = np.random.default_rng(seed)
    lines = ["user_id,item_id,timestamp"]
    for u in range(n_users):
        for t, i in enumerate(rng.choice(n_items, size=per_user, replace=False)):
            lines.append(f"{u},{i},{100 * t + u}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_oracle_json(invoke, views_files, tmp_path):
    sem, cf, _, _ = views_files
    log = _log(tmp_path / "log.csv")
    args = ("oracle", sem, cf, "--interactions", log, "--split", "user-temporal")
    result, doc = invoke(*args, "--k", "5,10", "--rrf-depth", "30", "--n-boot", "100")
    assert result.exit_code == 0, result.output
    assert doc["schema"] == "complement.oracle/1"
    assert doc["split"]["kind"] == "user-temporal" and doc["split"]["n_items"] == 120
    assert doc["n_users"] == 40 and doc["rrf_depth"] == 30
    assert set(doc["k"]) == {"5", "10"}
    row = doc["k"]["5"]
    assert set(row["oracle"]) == {"union", "budget", "select", "ci95"}
    assert row["oracle"]["budget"] <= row["oracle"]["union"]
    best = row["best_single"]
    assert best["view"] in ("semantic", "collaborative") and "ci95" in best
    assert best["recall"] == row["recall"][best["view"]]
    assert set(row["fusion"]) == {"concat_fixed", "score_interpolation", "gated", "rrf"}
    for f in row["fusion"].values():
        assert set(f) >= {"recall", "ndcg", "headroom", "p_value", "ci95_diff", "ci95"}
        assert {"headroom_select", "exceeds_oracle"} <= set(f)
        assert 0 < f["p_value"] <= 1 and f["ci95_diff"][0] <= f["ci95_diff"][1]
    assert set(doc["gated"]) == {"5", "10"} and "weights" in doc["gated"]["5"]
    assert doc["alpha_search"]["fixed"] is None
    assert {"concat_fixed", "gated", "exceeds_oracle", "headroom_select"} <= set(doc["definitions"])
    assert "choosing among the two views' lists" in " ".join(result.output.split())
    alpha = row["fusion"]["score_interpolation"]["alpha"]
    assert alpha == doc["alpha_search"]["alpha"]["5"] and 0 <= alpha <= 1
    assert doc["alpha_search"]["validation"]["phase"] == "valid"
    assert "headroom" in doc["definitions"] and "rrf" in doc["definitions"]
    assert "Practical fusion" in result.output and "α chosen" in result.output
    _, again = invoke(*args, "--k", "5,10", "--rrf-depth", "30", "--n-boot", "100")
    assert again == doc


def test_oracle_errors_are_one_line(invoke, views_files, tmp_path):
    sem, cf, _, _ = views_files
    log = _log(tmp_path / "log.csv")
    base = ("oracle", sem, cf, "--interactions", log, "--split", "user-temporal")
    cases = [
        ((*base, "--valid-frac", "0"), "--valid-frac"),
        ((*base, "--k", "50", "--rrf-depth", "20"), "--rrf-depth 20 is smaller"),
        ((*base, "--rrf-depth", "0"), "at least 1"),
    ]
    for args, message in cases:
        result, _ = invoke(*args, json_out=False)
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], result.output


@pytest.mark.skipif(not (FIXTURE / "complement.toml").is_file(), reason="fixture not built")
def test_oracle_on_movielens(invoke):
    result, doc = invoke("oracle", "--config", FIXTURE / "complement.toml", "--n-boot", "100")
    assert result.exit_code == 0, result.output
    row = doc["k"]["20"]
    assert row["best_single"]["view"] == "collaborative"
    assert row["gain"]["union"] > 0.05  # a clear oracle gain over the best single view
    assert row["oracle"]["union"] > row["best_single"]["ci95"]["recall"][1]


@pytest.mark.skipif(not (FIXTURE / "complement.toml").is_file(), reason="fixture not built")
def test_fixed_alpha_endpoints_are_the_views_on_movielens(invoke):
    for alpha, view in (("0", "collaborative"), ("1", "semantic")):
        config = ("--config", FIXTURE / "complement.toml")
        result, doc = invoke("oracle", *config, "--alpha", alpha, "--n-boot", "20", "--k", "10,20")
        assert result.exit_code == 0, result.output
        assert doc["alpha_search"]["fixed"] == float(alpha)
        assert "α fixed by --alpha" in result.output
        for k, row in doc["k"].items():
            interp = row["fusion"]["score_interpolation"]
            assert interp["alpha"] == float(alpha)
            assert interp["recall"] == row["recall"][view], (alpha, k)
            assert interp["ndcg"] == row["ndcg"][view], (alpha, k)
