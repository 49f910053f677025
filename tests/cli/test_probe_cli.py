from __future__ import annotations

import numpy as np
import pytest

N_ITEMS, N_USERS = 150, 40


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def probe_data(tmp_path):
    """Views sharing 3 factors, a log where item i is first seen at time 10 i, user vectors."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((N_ITEMS, 3))
    sem = np.c_[z, rng.standard_normal((N_ITEMS, 5))] @ rng.standard_normal((8, 12))
    cf = np.c_[z, rng.standard_normal((N_ITEMS, 3))] @ rng.standard_normal((6, 6))
    ids = np.arange(1000, 1000 + N_ITEMS)
    np.save(tmp_path / "sem.npy", sem.astype(np.float32))
    np.save(tmp_path / "cf.npy", cf.astype(np.float32))
    np.save(tmp_path / "ids.npy", ids)
    rows = [f"0,{ids[i]},{10 * i}" for i in range(N_ITEMS)]
    for u in range(1, N_USERS):
        for i in rng.choice(N_ITEMS, size=25, replace=False):
            rows.append(f"{u},{ids[i]},{10 * i + u}")
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    np.save(tmp_path / "cf_users.npy", rng.standard_normal((N_USERS, 6)).astype(np.float32))
    (tmp_path / "complement.toml").write_text(
        '[data]\nsemantic = "sem.npy"\nsem_ids = "ids.npy"\ncollaborative = "cf.npy"\n'
        'cf_ids = "ids.npy"\ninteractions = "log.csv"\ncf_users = "cf_users.npy"\n'
        '[options]\nsplit = "user-temporal"\nseed = 0\n'
    )
    return tmp_path


def test_probe_json_from_config_without_arguments(invoke, probe_data):
    result, doc = invoke("probe", "--shift", "temporal", "--quiet")
    assert result.exit_code == 0, result.output
    assert doc["schema"] == "complement.probe/1"
    assert doc["direction"] == "sem2cf"
    shift = doc["shift"]
    assert shift["kind"] == "temporal" and shift["n_train"] + shift["n_test"] == N_ITEMS
    assert "user-temporal split has no global cutoff" in shift["cutoff_source"]
    assert doc["reference_shift"]["kind"] == "random"
    lin = doc["capacities"]["linear"]
    for side in ("train", "test"):
        assert set(lin[side]) >= {"r2", "r2_uniform", "cosine", "geojac", "spearman"}
    assert lin["test"]["n"] == shift["n_test"]
    assert lin["alpha"] > 0 and lin["fit"]["alpha_source"] == "cv5"
    assert lin["rec_true"] is not None and lin["rec_mapped"] is not None
    assert lin["drop_pct"] == pytest.approx(
        (lin["rec_true"] - lin["rec_mapped"]) / lin["rec_true"] * 100
    )
    assert lin["gap"]["r2"] == pytest.approx(lin["test"]["r2"] - lin["random_test"]["r2"])
    assert doc["rec"]["n_users"] > 0 and "r2_uniform" in doc["definitions"]
    assert doc["provenance"]["config"]["sources"]["semantic"].endswith("[data]")
    assert "Alignment probes" in result.output and "Recall@20" in result.output
    _, again = invoke("probe", "--shift", "temporal", "--quiet")
    assert again == doc  # deterministic


def test_probe_temporal_split_cutoff_is_reused(invoke, probe_data):
    result, doc = invoke("probe", "--shift", "temporal", "--split", "temporal", "--quiet")
    assert result.exit_code == 0, result.output
    assert doc["shift"]["cutoff"] == doc["split"]["cutoff"]
    assert doc["shift"]["cutoff_source"] == "the temporal split's cutoff"


def test_probe_positional_views_random_and_fixed_alpha(invoke, probe_data):
    d = probe_data
    result, doc = invoke(
        "probe", d / "sem.npy", d / "cf.npy", "--ridge-alpha", "0.5", "--direction", "cf2sem",
        "--capacity", "lowrank", "--rank", "2", "--config", d / "complement.toml", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    low = doc["capacities"]["lowrank"]
    assert doc["direction"] == "cf2sem" and doc["dim_target"] == 12
    assert low["alpha"] == 0.5 and low["fit"]["rank"] == 2
    assert low["gap"] == {"r2": 0.0, "r2_uniform": 0.0}
    assert low["rec_true"] is None  # no semantic user vectors for cf2sem
    assert doc["shift"] == {"kind": "random", "n_train": 120, "n_test": 30, "test_frac": 0.2,
                            "seed": 0}  # fmt: skip


def test_probe_popularity_cold_and_all(invoke, probe_data):
    result, doc = invoke("probe", "--shift", "popularity", "--tail-frac", "0.3", "--quiet")
    assert result.exit_code == 0, result.output
    assert doc["shift"]["n_test"] == 45
    result, doc = invoke("probe", "--shift", "cold", "--max-interactions", "6", "--quiet")
    assert result.exit_code == 0, result.output
    assert doc["shift"]["max_interactions"] == 6 and doc["shift"]["n_test"] >= 20
    result, doc = invoke(
        "probe", "--capacity", "all", "--shift", "none", "--max-epochs", "2", "--rank", "3"
    )
    assert result.exit_code == 0, result.output
    assert list(doc["capacities"]) == ["linear", "lowrank", "mlp1", "mlp2", "mlp3"]
    assert doc["capacities"]["mlp3"]["fit"]["hidden"] == [2048, 2048, 2048]
    assert doc["capacities"]["mlp1"]["fit"]["epochs_run"] <= 2
    assert doc["shift"]["n_train"] == doc["shift"]["n_test"] == N_ITEMS
    assert "fitting mlp3" in result.output
    result, _ = invoke("probe", "--capacity", "all", json_out=False)
    assert result.exit_code == 2 and "fitting" not in result.output  # --rank 16 > 6, refused first


def test_probe_refusals_are_one_line(invoke, probe_data, tmp_path):
    d = probe_data
    cases = [
        (("--shift", "cold", "--max-interactions", "0"), "each side needs at least 20"),
        (("--shift", "popularity", "--tail-frac", "0.05"), "leaves 7 test items"),
        (("--capacity", "lowrank", "--rank", "50"), "--rank 50"),
        (("--capacity", "cubic"), "--capacity 'cubic'"),
        (("--ridge-alpha", "-1"), "--ridge-alpha"),
    ]
    for args, message in cases:
        result, _ = invoke("probe", *args, "--quiet", json_out=False)
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], result.output
    (tmp_path / "complement.toml").unlink()
    result, _ = invoke(
        "probe", d / "sem.npy", d / "cf.npy", "--shift", "temporal", "--quiet", json_out=False
    )
    assert result.exit_code == 2 and "needs an interaction log" in result.output


def test_probe_paper_protocol_fixed_epochs_and_raw_rows(invoke, probe_data):
    result, doc = invoke(
        "probe", "--capacity", "mlp1", "--no-early-stop", "--epochs", "3", "--raw",
        "--shift", "temporal",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert doc["protocol"] == {"early_stop": False, "epochs": 3, "max_epochs": None, "raw": True}
    mlp = doc["capacities"]["mlp1"]
    assert mlp["fit"]["early_stop"] is False and mlp["fit"]["epochs_run"] == 3
    assert mlp["fit"]["n_valid"] == 0 and mlp["fit"]["train_mse"] > 0
    gap = mlp["train_test_gap"]
    assert gap["r2"] == pytest.approx(mlp["train"]["r2"] - mlp["test"]["r2"])
    assert 0 <= mlp["rec_jaccard"] <= 1 and doc["rec"]["drop_pct_floor"] == 0.01
    assert mlp["drop_abs"] == pytest.approx(mlp["rec_true"] - mlp["rec_mapped"])
    assert mlp["drop_below_floor"] is (mlp["rec_true"] < 0.01)
    assert {"rec_jaccard", "drop_abs", "train_test_gap"} <= set(doc["definitions"])
    assert "3 fixed epochs" in result.output and "raw rows" in result.output
    assert "Rec Jaccard" in result.output and "train − test" in result.output
    # --no-early-stop alone: the paper's 400 epochs (refused here before any fit by --epochs 0)
    result, doc = invoke("probe", "--capacity", "linear", "--no-early-stop", "--quiet")
    assert result.exit_code == 0 and doc["protocol"]["epochs"] == 400
    result, _ = invoke("probe", "--capacity", "mlp1", "--epochs", "5", "--quiet", json_out=False)
    assert result.exit_code == 2 and "only with --no-early-stop" in result.output
    result, _ = invoke(
        "probe", "--no-early-stop", "--epochs", "0", "--capacity", "mlp1", "--quiet",
        json_out=False,
    )  # fmt: skip
    assert result.exit_code == 2 and "--epochs 0" in result.output


def test_probe_rec_table_flags_a_drop_below_the_floor():
    from complement.report.model.probe import BELOW_FLOOR, probe_tables

    cap = {"rec_true": 0.0003, "rec_mapped": 0.0255, "rec_jaccard": 0.085, "drop_pct": None,
           "drop_abs": -0.0252, "drop_below_floor": True, "fit": {}}  # fmt: skip
    ok = dict(cap, rec_true=0.2, rec_mapped=0.05, drop_pct=75.0, drop_abs=0.15,
              drop_below_floor=False)  # fmt: skip
    doc = {"direction": "sem2cf", "shift": {"kind": "random"}, "capacities": {"a": cap, "b": ok},
           "rec": {"k": 20, "n_users": 9, "n_targets": 30, "drop_pct_floor": 0.01}}  # fmt: skip
    rec = probe_tables(doc)[1]
    assert rec.headers == ("capacity", "RecTrue", "RecMapped", "Rec Jaccard", "drop")
    assert rec.rows[0][4] == f"-0.0252 {BELOW_FLOOR}" and rec.rows[1][4] == "+75.0%"
    assert rec.rows[0][3] == "0.085"
    assert any("absolute drop" in note for note in rec.notes)


def _one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_probe_refuses_an_all_zero_row_whatever_the_metric(invoke, probe_data, recwarn):
    d = probe_data
    cf = np.load(d / "cf.npy")
    cf[9] = 0.0  # item 1009
    np.save(d / "cf_zero.npy", cf)
    for metric in ("ip", "cosine"):
        result, _ = invoke(
            "probe", d / "sem.npy", d / "cf_zero.npy", "--metric", metric, "--shift", "none",
            "--per-item", d / "z.parquet", "--quiet", json_out=False,
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        line = _one_line(result)
        assert "collaborative embeddings" in line and "1009" in line, line
        assert "pass --drop-invalid to leave" in line
    assert not (d / "z.parquet").exists()
    # --drop-invalid leaves the item out, as a cosine join would; no warning on the way
    result, ip = invoke(
        "probe", d / "sem.npy", d / "cf_zero.npy", "--metric", "ip", "--drop-invalid",
        "--shift", "none", "--per-item", d / "z.parquet", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    _, cos = invoke(
        "probe", d / "sem.npy", d / "cf_zero.npy", "--drop-invalid", "--shift", "none",
        "--quiet",
    )  # fmt: skip
    assert ip["views"]["dropped"]["collaborative_zero"] == 1 and ip["n_items"] == N_ITEMS - 1
    assert {k: v for k, v in ip.items() if k != "provenance"} == {
        k: v for k, v in cos.items() if k != "provenance"
    }
    lin = ip["capacities"]["linear"]
    assert lin["test"]["n"] == N_ITEMS - 1 and np.isfinite(lin["test"]["cosine"])
    import polars as pl

    per_item = pl.read_parquet(d / "z.parquet")
    assert per_item.height == N_ITEMS  # the run's items; the one left out has no probe figures
    row = per_item.filter(pl.col("item_id") == "1009")
    assert row["probe_split"][0] is None and np.isnan(row["probe_cosine_linear"][0])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.fixture
def small_data(tmp_path):
    """90 items (too few for the random reference's 20 test items), a log, no user vectors."""
    rng = np.random.default_rng(1)
    n = 90
    z = rng.standard_normal((n, 3))
    np.save(tmp_path / "sem.npy", (np.c_[z, rng.standard_normal((n, 5))]).astype(np.float32))
    np.save(tmp_path / "cf.npy", (np.c_[z, rng.standard_normal((n, 3))]).astype(np.float32))
    rows = [f"{u},{i},{u * 100 + i}" for u in range(30) for i in rng.choice(n, 20, replace=False)]
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    return tmp_path


@pytest.mark.parametrize("shift", ["popularity", "none"])
def test_probe_without_room_for_the_random_reference_runs_without_a_gap(invoke, small_data, shift):
    d = small_data
    args = ("probe", d / "sem.npy", d / "cf.npy", "--interactions", d / "log.csv",
            "--split", "user-temporal", "--shift", shift, "--tail-frac", "0.3")  # fmt: skip
    result, doc = invoke(*args)
    assert result.exit_code == 0, result.output
    assert doc["shift"]["kind"] == shift and doc["shift"]["n_test"] >= 20
    assert doc["reference_shift"] is None
    assert "18 test items" in doc["gap_reason"] and "at least 100 items" in doc["gap_reason"]
    lin = doc["capacities"]["linear"]
    assert lin["gap"] is None and lin["random_test"] is None
    assert "--shift random" not in result.output
    assert "random R² and gap: not computed" in " ".join(result.output.split())
    # asked for, the random shift itself is still refused
    result, _ = invoke(*args[:-4], "--shift", "random", "--quiet", json_out=False)
    assert result.exit_code == 2 and "give at least 100 items" in _one_line(result)


def test_probe_advice_grows_the_side_that_is_too_small(invoke, probe_data):
    cases = [
        (("--shift", "popularity", "--tail-frac", "0.99"), "train", "lower --tail-frac"),
        (("--shift", "popularity", "--tail-frac", "0.05"), "test", "raise --tail-frac"),
        (("--shift", "cold", "--max-interactions", "1000"), "train", "lower --max-interactions"),
        (("--shift", "cold", "--max-interactions", "0"), "test", "raise --max-interactions"),
        (("--shift", "temporal", "--cutoff", "15"), "train", "a later --cutoff"),
        (("--shift", "temporal", "--cutoff", "1450"), "test", "an earlier --cutoff"),
    ]
    for args, side, advice in cases:
        result, _ = invoke("probe", *args, "--quiet", json_out=False)
        assert result.exit_code == 2, (args, result.output)
        line = _one_line(result)
        assert "items (train" in line and f" {side} items" in line and advice in line, line


def test_the_report_headline_shows_no_random_r2_without_a_reference():
    from complement.report.model.fmt import MISSING
    from complement.report.model.probe import probe_tables
    from complement.report.model.report import headline

    lin = {"test": {"r2": -0.411}, "random_test": None, "gap": None, "fit": {}}
    probe = {"direction": "sem2cf", "shift": {"kind": "popularity"}, "reference_shift": None,
             "gap_reason": "too few items", "capacities": {"linear": lin}}  # fmt: skip
    label, value = dict(headline({"probe": probe})).popitem()
    assert label == "linear probe test R² random / popularity"
    assert value == f"{MISSING} / -0.411"
    table = probe_tables(probe)[0]
    assert "random R² and gap: not computed: too few items" in table.notes
    assert not any(note.startswith("gap = ") for note in table.notes)
