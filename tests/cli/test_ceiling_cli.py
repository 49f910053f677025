"""The noise ceiling (``--cf-replicate`` / ``--sem-replicate``): every S–C figure of overlap,
hits and structure beside the same figure between a view and its replicate; nothing added
without one."""

from __future__ import annotations

import numpy as np
import pytest

from complement.pipeline.ceiling import ceiling_part
from complement.report.model import document_tables

#: each document's keys without a replicate (as before the ceiling existed)
KEYS = {
    "overlap": ["schema", "complement_version", "n_items", "n_queries", "metric", "cka_linear",
                "seed", "sample", "k", "definitions", "views", "interactions", "provenance"],
    "hits": ["schema", "complement_version", "n_users", "n_items", "n_targets", "scoring",
             "n_boot", "seed", "k", "split", "definitions", "views", "interactions",
             "diversity", "provenance"],
    "structure": ["schema", "complement_version", "n_items", "n_fit", "n_heldout", "seed", "pca",
                  "cca_reg", "canonical_correlations", "canonical_correlations_heldout",
                  "null_max", "null_p95", "shared_dim", "variance_shared", "private_energy",
                  "most_private", "most_shared", "definitions", "views", "provenance"],
}  # fmt: skip
OPTIONS = {
    "overlap": ("--k", "5,10"),
    "hits": ("--k", "5,10", "--n-boot", "100", "--split", "random"),
    "structure": ("--permutations", "3"),
}


@pytest.fixture
def data(views_files, tmp_path):
    """Two views, a log, and replicates: C′ = C plus noise, S′ = S plus noise."""
    sem, cf, s, c = views_files
    rng = np.random.default_rng(5)
    np.save(tmp_path / "cf_rep.npy", (c + 0.3 * rng.standard_normal(c.shape)).astype(np.float32))
    np.save(tmp_path / "sem_rep.npy", (s + 0.3 * rng.standard_normal(s.shape)).astype(np.float32))
    rows = "\n".join(
        f"{u},{i},{u * 1000 + i}" for u in range(40) for i in rng.choice(120, 25, replace=False)
    )
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n" + rows + "\n")
    return sem, cf, tmp_path


@pytest.mark.parametrize("command", sorted(KEYS))
def test_no_replicate_no_ceiling(invoke, data, command):
    sem, cf, folder = data
    result, doc = invoke(command, sem, cf, "--interactions", folder / "log.csv", *OPTIONS[command])
    assert result.exit_code == 0, result.output
    assert list(doc) == KEYS[command]
    assert "Noise ceiling" not in result.output
    assert ceiling_part(None) == {}


@pytest.mark.parametrize("command", sorted(KEYS))
def test_replicate_adds_the_ceiling(invoke, data, command):
    sem, cf, folder = data
    result, doc = invoke(
        command, sem, cf, "--interactions", folder / "log.csv", *OPTIONS[command],
        "--cf-replicate", folder / "cf_rep.npy",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert list(doc)[: len(KEYS[command]) - 1] == KEYS[command][:-1]  # the rest as it was
    ceiling = doc["ceiling"]
    assert set(ceiling) == {"collaborative", "definitions"}
    block = ceiling["collaborative"]
    assert block["replicate"].endswith("cf_rep.npy") and block["pair"] == "C–C′"
    assert set(block["figures"]) == set(block["normalised"]) <= set(block["observed"])
    for name, value in block["figures"].items():
        want = block["observed"][name] / value if value else None
        assert block["normalised"][name] == pytest.approx(want)
    expected = {
        "overlap": {"overlap@5", "jaccard@10", "cka_linear", "cka_debiased"},
        "hits": {"list_jaccard@5", "complementary_ratio@10"},
        "structure": {"shared_dim", "variance_shared", "private_energy_mean"},
    }[command]
    assert expected <= set(block["figures"])
    assert "S–C ÷ C–C′" in result.output
    tables = {t.key: t for t in document_tables(doc)}
    table = tables[f"{command}.ceiling.collaborative"]
    assert table.title.startswith("Noise ceiling: the collaborative view against its replicate")
    assert table.column("figure")[0] in {"overlap@5", "list Jaccard@5", "shared dimension"}
    assert doc["provenance"]["inputs"]["cf_replicate"]["sha256"]


def test_overlap_ceiling_values(invoke, data):
    sem, cf, folder = data
    result, doc = invoke("overlap", sem, cf, "--k", "5", "--cf-replicate", cf)
    assert result.exit_code == 0, result.output
    block = doc["ceiling"]["collaborative"]
    assert block["figures"]["overlap@5"] == 1.0 and block["figures"]["jaccard@5"] == 1.0
    assert block["figures"]["cka_linear"] == pytest.approx(1.0)
    assert block["figures"]["cka_debiased"] == pytest.approx(1.0)
    assert block["normalised"]["overlap@5"] == doc["k"]["5"]["overlap"]
    assert block["observed"]["cka_linear"] == doc["cka_linear"]


def test_both_replicates_give_the_combined_ceiling(invoke, data):
    sem, cf, folder = data
    result, doc = invoke(
        "overlap", sem, cf, "--k", "5",
        "--cf-replicate", folder / "cf_rep.npy", "--sem-replicate", folder / "sem_rep.npy",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ceiling = doc["ceiling"]
    assert set(ceiling) == {"semantic", "collaborative", "combined", "definitions"}
    s, c = ceiling["semantic"]["figures"], ceiling["collaborative"]["figures"]
    got = ceiling["combined"]["normalised"]["cka_linear"]
    assert got == pytest.approx(doc["cka_linear"] / np.sqrt(s["cka_linear"] * c["cka_linear"]))
    assert ceiling["semantic"]["pair"] == "S–S′"
    assert "Noise ceiling of both views" in result.output


def test_replicate_must_cover_every_item(invoke, data, tmp_path):
    sem, cf, folder = data
    np.save(tmp_path / "short.npy", np.load(cf)[:100])
    result, _ = invoke("overlap", sem, cf, "--cf-replicate", tmp_path / "short.npy", json_out=False)
    assert result.exit_code == 2
    assert "joined items have no row" in result.output


def test_fixture_config_shows_the_ceiling(invoke):
    from tests.conftest import FIXTURE

    result, doc = invoke("overlap", "--config", FIXTURE / "complement.toml", "--k", "20")
    assert result.exit_code == 0, result.output
    block = doc["ceiling"]["collaborative"]
    assert block["replicate"].endswith("cf_seed1.npy")
    # retraining BPR with another seed keeps about half of the 20 neighbours; S keeps 6%
    assert 0.3 < block["figures"]["overlap@20"] < 0.8
    assert block["normalised"]["overlap@20"] < 0.3


def test_report_sections_carry_the_ceiling(invoke, data):
    sem, cf, folder = data
    result, doc = invoke(
        "report", sem, cf, "--interactions", folder / "log.csv", "--split", "random",
        "--k", "5", "--n-boot", "50", "--permutations", "3", "--cf-replicate",
        folder / "cf_rep.npy", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("overlap", "hits", "structure"):
        assert doc["sections"][name] == "ok", doc[name]
        assert "collaborative" in doc[name]["ceiling"]
    assert "ceiling" not in doc["oracle"]


def test_fixture_ships_the_bpr_replicate():
    import tomllib

    from tests.conftest import FIXTURE

    rep = np.load(FIXTURE / "cf_seed1.npy", allow_pickle=False)
    cf = np.load(FIXTURE / "cf.npy", allow_pickle=False)
    assert rep.dtype == np.float32 and rep.shape == cf.shape
    assert np.isfinite(rep).all() and (np.abs(rep).sum(axis=1) > 0).all()
    assert not np.array_equal(rep, cf)  # another seed, not a copy
    config = tomllib.loads((FIXTURE / "complement.toml").read_text(encoding="utf-8"))
    assert config["data"]["cf_replicate"] == "cf_seed1.npy"
    assert "cf_seed1.npy" in (FIXTURE / "README.md").read_text(encoding="utf-8")
