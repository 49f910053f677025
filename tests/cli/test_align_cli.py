from __future__ import annotations

import numpy as np
import pytest

from complement.io import load_embeddings

SETTINGS = ("warm", "cold", "cold_all")
FUSIONS = ("concat_fixed", "score_interpolation", "gated", "rrf")
METHODS = ("directau", "carec", "darec", "sella", "ncn", "semproj", "lightgcn")
STRATEGIES = ("directau", "carec", "darec", "sella")
SYSTEMS = (
    "directau", "directau_ablated", "carec", "carec_ablated", "darec", "darec_ablated",
    "sella", "sella_ablated", "ncn", "semproj", "lightgcn",
)  # fmt: skip


@pytest.fixture
def align_files(tmp_path):
    """460 items in 4 topics (23 cold items), 60 users each reading mostly one topic."""
    rng = np.random.default_rng(0)
    n_items, n_users = 460, 60
    topic = rng.integers(0, 4, n_items)
    centres = rng.standard_normal((4, 16)) * 2
    sem = (centres[topic] + rng.standard_normal((n_items, 16))).astype(np.float32)
    cf = (centres[topic][:, :8] + rng.standard_normal((n_items, 8))).astype(np.float32)
    ids = np.arange(100, 100 + n_items)
    np.save(tmp_path / "sem.npy", sem)
    np.save(tmp_path / "cf.npy", cf)
    np.save(tmp_path / "ids.npy", ids)
    rows = []
    for u in range(n_users):
        liked = np.flatnonzero(topic == u % 4)
        picks = rng.choice(liked, size=24, replace=False)
        noise = rng.choice(n_items, size=6, replace=False)
        for t, i in enumerate(np.concatenate([picks, noise])):
            rows.append(f"u{u},{ids[i]},{1000 * u + t}")
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    (tmp_path / "complement.toml").write_text(
        '[data]\nsemantic = "sem.npy"\ncollaborative = "cf.npy"\nsem_ids = "ids.npy"\n'
        'cf_ids = "ids.npy"\ninteractions = "log.csv"\n'
        '[options]\nsplit = "user-temporal"\nseed = 0\nn_boot = 50\n'
        "[align]\nepochs = 2\ndim = 8\n"
    )
    return tmp_path, ids


def test_align_all_json_exports_and_determinism(invoke, align_files):
    folder, ids = align_files
    result, doc = invoke("align", "--export", folder / "emb", "--grid", "none")
    assert result.exit_code == 0, result.output
    assert doc["schema"] == "complement.align/1"
    assert doc["methods"] == list(METHODS) and doc["k"] == 20
    assert doc["systems"] == list(SYSTEMS) and doc["grid"]["name"] == "none"
    assert doc["protocol"]["n_cold_items"] == 23 and doc["protocol"]["n_train_pairs"] > 0
    assert set(doc["settings"]) == set(SETTINGS)
    for name in SETTINGS:
        s = doc["settings"][name]
        assert s["skipped"] is None, (name, s)
        for v in ("semantic", "collaborative"):
            lo, hi = s["recall"]["ci95"][v]
            assert lo <= s["recall"][v] <= hi
        assert set(s["fusion"]) == set(FUSIONS) | set(SYSTEMS)
        for m in SYSTEMS:
            row = s["fusion"][m]
            assert 0 <= row["recall"] <= 1 and row["ci95"]["recall"][0] <= row["recall"]
            assert "p_value" in row and "ndcg" in row
            # one seed: the pooled test is the list's own test, the mean its value
            assert row["p"] == row["p_value"]
            assert row["mean"]["recall"] == pytest.approx(row["recall"], abs=1e-12)
            assert row["sd"]["recall"] is None and len(row["seeds"]) == 1
            assert row["p"] <= row["p_holm"] <= 1
            for v in ("semantic", "collaborative"):
                hits = s["strategy_hits"][m][v]
                assert set(hits["hits"]) == {"common", "strategy_only", "view_only"}
                assert hits["private_survived"] <= hits["private_hits"]
        assert set(s["oracle"]) >= {"union", "budget", "select"}
    assert s["n_candidates"] == 460 and doc["settings"]["cold"]["n_candidates"] == 23
    assert set(doc["training"]) == set(SYSTEMS)
    assert any("LLM" in n for n in doc["training"]["darec"]["notes"])
    assert any("out of scope" in n for n in doc["training"]["sella"]["notes"])
    assert doc["training"]["carec"]["epochs_run"]["users"] <= 2
    assert {"cold_items", "private_survival", "recall", "budget"} <= set(doc["definitions"])
    assert "Hits@20" in result.output and "cold items (ranked among all items)" in result.output
    assert "mean of S over the user's train items" in result.output
    for m in SYSTEMS:
        items = load_embeddings(doc["exports"][m]["items"], role="semantic")
        users = load_embeddings(doc["exports"][m]["users"], role="semantic users")
        assert items.ids.tolist() == ids.astype(str).tolist()
        assert sorted(users.ids.tolist()) == sorted(f"u{u}" for u in range(60))
        assert items.shape[1] == users.shape[1] and np.isfinite(items.matrix).all()
        width = {"carec": 16, "carec_ablated": 16, "ncn": 16}.get(m, 8)
        assert items.shape[1] == width, m
    first = {m: np.load(doc["exports"][m]["items"])["embeddings"] for m in SYSTEMS}
    _, again = invoke("align", "--export", folder / "emb", "--grid", "none")
    assert again == doc  # same inputs and seed: the same document and the same vectors
    for m in SYSTEMS:
        np.testing.assert_array_equal(np.load(doc["exports"][m]["items"])["embeddings"], first[m])
    # the exported vectors are diagnosable by every other command
    hits, hits_doc = invoke(
        "hits",
        doc["exports"]["darec"]["items"],
        folder / "cf.npy",
        "--cf-ids",
        folder / "ids.npy",
        "--sem-users",
        doc["exports"]["darec"]["users"],
        "--k",
        "10",
    )
    assert hits.exit_code == 0, hits.output
    assert hits_doc["scoring"]["semantic"] == "inner product with user embeddings"


def test_align_one_method_and_options(invoke, align_files):
    result, doc = invoke(
        "align", "--method", "sella", "--epochs", "1", "--lr", "0.01", "--seed", "2"
    )
    assert result.exit_code == 0, result.output
    assert doc["methods"] == ["sella"] and set(doc["training"]) == {"sella", "sella_ablated"}
    hyper = doc["training"]["sella"]["hyper"]
    assert hyper["lr"] == 0.01 and hyper["epochs_per_stage"] == 1 and hyper["seed"] == 2
    assert doc["exports"] is None
    assert set(doc["settings"]["warm"]["fusion"]) == set(FUSIONS) | {"sella", "sella_ablated"}
    assert doc["provenance"]["config"]["sources"]["dim"].endswith("[align]")


def test_align_errors_are_one_line(invoke, align_files):
    folder, _ = align_files
    (folder / "afile").write_text("x")
    cases = [
        (("align", "--method", "nope"), "choose one of"),
        (("align", "--epochs", "0"), "at least 1"),
        (("align", "--lr", "-1"), "learning rate"),
        (("align", "--export", folder / "afile"), "is a file"),
        (("align", "--export", folder / "no" / "dir"), "does not exist"),
        (("align", "--valid-frac", "0"), "valid-frac"),
    ]
    for args, message in cases:
        result, _ = invoke(*args, json_out=False)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_align_export_never_overwrites_an_input(invoke, align_files, monkeypatch):
    """``--export`` into the folder of the inputs: an input named like an export file (an
    embedding file, the config file) is refused before any training and left as it was."""
    folder, _ = align_files
    from complement.core import align as align_core

    def trained(*_a, **_k):
        raise AssertionError("align trained before refusing the export")

    monkeypatch.setattr(align_core, "align", trained)
    sem, ids = np.load(folder / "sem.npy"), np.load(folder / "ids.npy")
    np.savez(folder / "ncn_items.npz", embeddings=sem, ids=ids)
    (folder / "darec_ablated_users.npz").write_text((folder / "complement.toml").read_text())
    cases = [
        ("ncn_items.npz", ("align", folder / "ncn_items.npz", folder / "cf.npy", "--method",
                           "ncn", "--export", folder)),
        ("darec_ablated_users.npz", ("align", "--config", folder / "darec_ablated_users.npz",
                                     "--method", "darec", "--export", folder)),
        ("ncn_items.npz", ("align", "--sem-ids", folder / "ncn_items.npz", "--export", ".")),
    ]  # fmt: skip
    for name, args in cases:
        before = (folder / name).read_bytes()
        result, _ = invoke(*args, json_out=False)
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and f"{name} is one of this run's inputs" in lines[0], lines
        assert (folder / name).read_bytes() == before


def test_export_names_cover_every_trained_system():
    """The names checked before training (no torch needed) include every file written."""
    from complement.core.align_training import system_names
    from complement.io.export import export_names

    for methods in [METHODS, ("ncn",), ("darec", "semproj")]:
        expected = {f"{s}_{kind}.npz" for s in system_names(methods) for kind in ("items", "users")}
        assert expected <= set(export_names(methods))


def test_align_grid_seeds_ablation_and_holm(invoke, align_files):
    result, doc = invoke("align", "--method", "darec,semproj", "--seeds", "2", "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert doc["systems"] == ["darec", "darec_ablated", "semproj"]
    assert doc["grid"]["name"] == "small" and doc["grid"]["seeds"] == [0, 1]
    tuning = doc["training"]["darec"]["tuning"]
    assert tuning["axis"] == "weight" and len(tuning["grid"]) == 4
    best = max(tuning["grid"], key=lambda p: p["valid_ndcg10"])
    assert tuning["chosen"]["weight"] == best["weight"] and tuning["chosen"]["lr"] == best["lr"]
    assert len(doc["training"]["darec_ablated"]["tuning"]["grid"]) == 2
    assert doc["training"]["darec_ablated"]["hyper"]["weight"] == 0.0
    assert len(doc["training"]["semproj"]["tuning"]["grid"]) == 2
    family = []
    for s in doc["settings"].values():
        for name, row in s["fusion"].items():
            family.append(row["p"])
            if name in doc["systems"]:
                values = [r["recall"] for r in row["seeds"]]
                assert [r["seed"] for r in row["seeds"]] == [0, 1]
                assert values[0] == pytest.approx(row["recall"], abs=1e-12)  # the first seed
                assert row["mean"]["recall"] == pytest.approx(np.mean(values), abs=1e-12)
                assert row["sd"]["recall"] == pytest.approx(np.std(values, ddof=1), abs=1e-12)
                assert row["pooled"]["versus"] == s["best_single"]["view"]
    m = len(family)
    for s in doc["settings"].values():
        for row in s["fusion"].values():
            # Holm never lowers a p-value and never exceeds m times it
            assert row["p"] <= row["p_holm"] <= min(1.0, m * row["p"]) + 1e-12
    assert "p_holm" in doc["definitions"] and "tuning_grid" in doc["definitions"]
    assert "p Holm" in result.output and "seeds mean" in result.output
