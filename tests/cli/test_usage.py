"""Usage errors, the missing-embeddings threshold and user-vector checks: one line, exit 2."""

from __future__ import annotations

import json

import numpy as np
from conftest import FIXTURE


def _one_line(result, needle):
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and needle in lines[0], result.output
    assert "Traceback" not in result.output


def test_flag_typos_and_bad_values_are_one_line(invoke, views_files):
    sem, cf, _, _ = views_files
    result, _ = invoke("overlap", sem, cf, "--kk", "5", json_out=False)
    _one_line(result, "No such option: --kk")
    assert "see 'complement overlap --help'" in result.output
    result, _ = invoke("overlap", sem, cf, "--seed", "abc", json_out=False)
    _one_line(result, "--seed")
    result, _ = invoke("frobnicate", json_out=False)
    _one_line(result, "No such command 'frobnicate'; see 'complement --help'")
    result, _ = invoke("overlp", json_out=False)
    _one_line(result, "No such command 'overlp'")
    assert ".;" not in result.output
    result, _ = invoke("overlap", sem, cf, "--sample", "x", json_out=False)
    _one_line(result, "'x' is not a valid int; see 'complement overlap --help'")
    result, _ = invoke("gate", json_out=False)
    _one_line(result, "Missing argument 'CURRENT'; see 'complement gate --help'")
    assert ".;" not in result.output


def test_stdout_in_a_config_file_is_stdout(invoke, views_files, tmp_path):
    """``json = "-"`` in a config prints the JSON; it never writes a file named ``-``."""
    (tmp_path / "sub").mkdir()
    for name, where in (("complement.toml", tmp_path), ("c.toml", tmp_path / "sub")):
        data = "" if where == tmp_path else "../"
        (where / name).write_text(
            f'[data]\nsemantic = "{data}sem.npy"\ncollaborative = "{data}cf.npy"\n'
            '[options]\nk = [5]\nquiet = true\n[overlap]\njson = "-"\n'
        )
    for args in ((), ("--config", "sub/c.toml")):
        result, _ = invoke("overlap", *args, json_out=False)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["k"]["5"]["overlap"] >= 0
        assert not (tmp_path / "-").exists() and not (tmp_path / "sub" / "-").exists()


def test_overlap_refuses_k_of_all_other_items(invoke, views_files):
    sem, cf, _, _ = views_files  # 120 items: k = 119 would list every other item
    result, _ = invoke("overlap", sem, cf, "--k", "119", json_out=False)
    _one_line(result, "not smaller than the number of items minus one")
    result, doc = invoke("overlap", sem, cf, "--k", "118")
    assert result.exit_code == 0 and doc["k"]["118"]["overlap"] <= 1


def test_max_missing_threshold(invoke, views_files, tmp_path):
    sem, cf, _, _ = views_files
    rows = [f"{u},{i},{u}" for u in range(10) for i in range(5)]  # items 0..4: embedded
    rows += [f"{u},{1000 + i},{u}" for u in range(10) for i in range(6)]  # 60% unknown items
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    result, _ = invoke("overlap", sem, cf, "--k", "3", "--interactions", tmp_path / "log.csv",
                       json_out=False)  # fmt: skip
    _one_line(result, "55% of its rows name items without embeddings")
    assert "--max-missing 0.5" in result.output
    result, doc = invoke("overlap", sem, cf, "--k", "3", "--interactions", tmp_path / "log.csv",
                         "--max-missing", "0.6")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert doc["interactions"]["n_rows_without_embeddings"] == 60
    assert doc["interactions"]["share_rows_without_embeddings"] == 60 / 110


def test_user_vectors_must_match_the_item_dimension(invoke):
    # the fixture's collaborative user vectors (dim 64) as semantic ones (items: dim 384)
    result, _ = invoke(
        "hits", "--config", FIXTURE / "complement.toml", "--sem-users", FIXTURE / "cf_users.npy",
        "--sem-users-ids", FIXTURE / "user_ids.npy", "--k", "10", json_out=False,
    )  # fmt: skip
    _one_line(result, "dimension 64 differs from the item embeddings")
    assert np.load(FIXTURE / "sem.npy").shape[1] == 384


def test_max_missing_applies_to_users_without_vectors(invoke, tmp_path):
    users = np.load(FIXTURE / "user_ids.npy")
    vectors = np.load(FIXTURE / "cf_users.npy")
    np.save(tmp_path / "few_users.npy", vectors[:300])  # 643 of 943 users have no row
    np.save(tmp_path / "few_ids.npy", users[:300])
    args = (
        "hits", "--config", FIXTURE / "complement.toml", "--k", "10",
        "--cf-users", tmp_path / "few_users.npy", "--cf-users-ids", tmp_path / "few_ids.npy",
    )  # fmt: skip
    result, _ = invoke(*args, json_out=False)
    _one_line(result, "68% of the log's users have no row")
    result, doc = invoke(*args, "--max-missing", "0.7", "--n-boot", "50")
    assert result.exit_code == 0, result.output
    assert doc["n_users"] <= 300


def test_compare_reads_a_view_list_from_the_config(invoke, views_files, tmp_path):
    """``[compare] view = [...]`` names the views (it used to be ignored: "0 view given")."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.toml").write_text(
        '[compare]\nview = ["s=../sem.npy", "c=../cf.npy"]\n[options]\nk = [5]\nn_boot = 10\n'
    )
    result, doc = invoke("compare", "--config", "sub/c.toml")
    assert result.exit_code == 0, result.output
    config = doc["provenance"]["config"]
    assert config["sources"]["view"] == "sub/c.toml[compare]"
    assert [v[0] for v in config["values"]["view"]] == ["s", "c"]
    assert config["values"]["view"][0][1] == "sub/../sem.npy"  # relative to the config file
