from __future__ import annotations

import numpy as np
import pytest

N = 200


@pytest.fixture
def structure_data(tmp_path):
    """Two views sharing 2 strong factors, item ids 1..N, titles in a CSV."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((N, 2)) * 3
    sem = np.c_[z, rng.standard_normal((N, 6))] @ rng.standard_normal((8, 16))
    cf = np.c_[z, rng.standard_normal((N, 4))] @ rng.standard_normal((6, 8))
    np.save(tmp_path / "sem.npy", sem.astype(np.float32))
    np.save(tmp_path / "cf.npy", cf.astype(np.float32))
    np.save(tmp_path / "ids.npy", np.arange(1, N + 1))
    titles = [f"Movie {i}" for i in range(1, N + 1)]
    titles[4] = "Toy Story"
    titles[9] = "Toy Story 2"
    (tmp_path / "items.csv").write_text(
        "item_id,name\n" + "\n".join(f"{i + 1},{t}" for i, t in enumerate(titles)) + "\n"
    )
    (tmp_path / "complement.toml").write_text(
        '[data]\nsemantic = "sem.npy"\nsem_ids = "ids.npy"\ncollaborative = "cf.npy"\n'
        'cf_ids = "ids.npy"\nitems = "items.csv"\n[options]\ntitle_col = "name"\n'
        "[structure]\npermutations = 5\n"
    )
    return tmp_path


def test_structure_json(invoke, structure_data):
    result, doc = invoke("structure")
    assert result.exit_code == 0, result.output
    assert doc["schema"] == "complement.structure/1"
    assert doc["shared_dim"] == 2
    n_corr = min(doc["pca"]["semantic"]["dims"], doc["pca"]["collaborative"]["dims"])
    assert (
        len(doc["canonical_correlations"]) == len(doc["canonical_correlations_heldout"]) == n_corr
    )
    assert len(doc["null_max"]) == 5 and doc["null_p95"] < doc["canonical_correlations"][1]
    assert set(doc["variance_shared"]) == {"semantic", "collaborative"}
    assert 0 < doc["variance_shared"]["collaborative"] <= 1
    assert len(doc["most_private"]) == len(doc["most_shared"]) == 10
    assert doc["most_private"][0]["title"].startswith(("Movie", "Toy"))
    energies = [row["private_energy"] for row in doc["most_private"]]
    assert energies == sorted(energies, reverse=True)
    assert doc["private_energy"]["direction"] == "sem2cf"
    assert "shared_dim" in doc["definitions"] and doc["n_fit"] == 160
    assert "Canonical correlations" in result.output and "Most private items" in result.output
    _, again = invoke("structure")
    assert again == doc


def test_structure_options_and_errors(invoke, structure_data):
    result, doc = invoke(
        "structure", "--max-dim", "3", "--permutations", "2", "--direction", "cf2sem"
    )
    assert result.exit_code == 0, result.output
    assert doc["pca"]["semantic"]["dims"] == 3 and len(doc["canonical_correlations"]) == 3
    assert doc["private_energy"]["direction"] == "cf2sem"
    result, _ = invoke("structure", "--title-col", "title", json_out=False)
    assert result.exit_code == 2 and "--title-col" in result.output


def test_explain_by_id_and_title(invoke, structure_data):
    result, doc = invoke("explain", "5", "--neighbours", "4")
    assert result.exit_code == 0, result.output
    assert doc["schema"] == "complement.explain/1"
    assert doc["item"] == {"id": "5", "title": "Toy Story", "index": 4}
    assert len(doc["semantic"]) == len(doc["collaborative"]) == 4
    shared = set(doc["shared"])
    assert {r["id"] for r in doc["semantic"] if r["in_both"]} == shared
    assert {r["id"] for r in doc["collaborative"] if r["in_both"]} == shared
    assert doc["overlap"] == len(shared) / 4
    assert "Nearest neighbours of 5 Toy Story" in result.output
    result, by_title = invoke("explain", "toy story", "--neighbours", "4")
    assert by_title["item"] == doc["item"]  # the exact title wins over "Toy Story 2"
    result, _ = invoke("explain", "Toy", json_out=False)
    assert result.exit_code == 2 and "matches 2 titles" in result.output
    result, _ = invoke("explain", "Nonexistent", json_out=False)
    assert result.exit_code == 2 and "neither an id nor a title" in result.output
    result, _ = invoke("explain", "5", "--neighbours", "500", json_out=False)
    assert result.exit_code == 2 and "--neighbours 500" in result.output


def _one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_structure_refuses_an_all_zero_row_under_ip_and_drops_it_on_request(
    invoke, structure_data, recwarn
):
    d = structure_data
    cf = np.load(d / "cf.npy")
    cf[9] = 0.0  # id 10
    np.save(d / "cf_zero.npy", cf)
    base = ("structure", d / "sem.npy", d / "cf_zero.npy")
    result, _ = invoke(*base, "--metric", "ip", "--per-item", d / "z.parquet", json_out=False)
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "collaborative embeddings" in line and "first ids: 10)" in line and "all zeros" in line
    assert "structure L2-normalises every row" in line
    assert "pass --drop-invalid to leave such items out" in line
    assert not (d / "z.parquet").exists()
    result, ip = invoke(*base, "--metric", "ip", "--drop-invalid", "--per-item", d / "z.parquet")
    assert result.exit_code == 0, result.output
    _, cos = invoke(*base, "--drop-invalid")
    assert ip["n_items"] == N - 1 and ip["views"]["dropped"]["collaborative_zero"] == 1
    assert {k: v for k, v in ip.items() if k != "provenance"} == {
        k: v for k, v in cos.items() if k != "provenance"
    }
    assert all(row["private_energy"] is not None for row in ip["most_private"])
    assert "10" not in {row["id"] for row in ip["most_private"] + ip["most_shared"]}
    import polars as pl

    per_item = pl.read_parquet(d / "z.parquet")
    assert per_item.height == N
    assert np.isnan(per_item.filter(pl.col("item_id") == "10")["private_energy_collaborative"][0])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_explain_an_item_outside_the_joined_views_says_where_it_is(invoke, structure_data):
    d = structure_data
    sem, ids = np.load(d / "sem.npy"), np.load(d / "ids.npy")
    np.save(d / "sem_no5.npy", sem[ids != 5])
    np.save(d / "ids_no5.npy", ids[ids != 5])
    views = (d / "sem_no5.npy", d / "cf.npy", "--sem-ids", d / "ids_no5.npy")
    for text in ("5", "Toy Story", "toy story", "5.0"):
        result, _ = invoke("explain", text, *views, json_out=False)
        assert result.exit_code == 2, result.output
        line = _one_line(result)
        assert "id 5 ('Toy Story') is only in the collaborative view" in line, line
        assert "no neighbours in both views" in line
        assert "neither an id nor a title" not in line and "is not an id" not in line
    cf = np.load(d / "cf.npy")
    cf[4] = np.nan  # id 5
    np.save(d / "cf_nan.npy", cf)
    result, _ = invoke(
        "explain", "Toy Story", d / "sem.npy", d / "cf_nan.npy", "--drop-invalid", json_out=False
    )
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "id 5 ('Toy Story') was dropped as invalid by --drop-invalid" in line, line
    assert "its collaborative row in " in line and "cf_nan.npy has NaN or infinite values" in line


def test_explain_ids_follow_the_id_rule_and_a_title_that_is_an_id_is_noted(invoke, structure_data):
    d = structure_data
    _, by_id = invoke("explain", "5", "--neighbours", "3")
    for text in ("5.0", "5.", " 5 "):
        result, doc = invoke("explain", text, "--neighbours", "3")
        assert result.exit_code == 0, (text, result.output)
        assert doc["item"] == by_id["item"] and "note" not in doc
    result, _ = invoke("explain", "5.5", json_out=False)
    assert result.exit_code == 2 and "neither an id nor a title" in result.output
    # a movie titled "7" (id 3): the text 7 is the id 7, with a note on the title
    rows = (d / "items.csv").read_text().splitlines()
    rows[3] = "3,7"
    (d / "items.csv").write_text("\n".join(rows) + "\n")
    result, doc = invoke("explain", "7", "--neighbours", "3")
    assert result.exit_code == 0, result.output
    assert doc["item"]["id"] == "7"
    assert doc["note"] == "'7' was taken as the id 7; it is also the title of id 3 ('7'): give 3 " \
        "to explain that item"  # fmt: skip
    assert "note: '7' was taken as the id 7" in " ".join(result.output.split())
    _, three = invoke("explain", "3", "--neighbours", "3")
    assert three["item"]["title"] == "7" and "note" not in three
