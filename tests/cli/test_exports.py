"""--rankings, --run-dir, --per-user and --per-item on the MovieLens fixture, read back."""

from __future__ import annotations

import json
import warnings

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURE

CONFIG = FIXTURE / "complement.toml"


def _run(tmp, command: str, *extra: str) -> dict:
    from complement.cli.app import app

    out = tmp / f"{command}.json"
    argv = [command, "--config", str(CONFIG), "--json", str(out), "--quiet", *extra]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def hits_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hits")
    doc = _run(
        tmp,
        "hits",
        "--n-boot", "100",
        "--rankings", str(tmp / "r.parquet"),
        "--run-dir", str(tmp / "runs"),
        "--per-user", str(tmp / "u.parquet"),
    )  # fmt: skip
    return tmp, doc


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oracle")
    doc = _run(
        tmp,
        "oracle",
        "--n-boot", "100",
        "--rankings", str(tmp / "r.parquet"),
        "--run-dir", str(tmp / "runs"),
        "--per-user", str(tmp / "u.parquet"),
    )  # fmt: skip
    return tmp, doc


#: the JSON's user_classes names -> the per-user table's user_class values
CLASS_NAMES = {
    "both": "both",
    "semantic_only": "semantic",
    "collaborative_only": "collaborative",
    "no_hit": "none",
}

RANKING_SCHEMA = {
    "system": pl.String,
    "user_id": pl.String,
    "rank": pl.Int64,
    "item_id": pl.String,
    "score": pl.Float64,
    "hit": pl.Boolean,
}


def _n_targets(runs) -> pl.DataFrame:
    qrels = pl.read_csv(
        runs / "qrels.txt",
        separator=" ",
        has_header=False,
        new_columns=["user_id", "zero", "item_id", "rel"],
        schema_overrides={"user_id": pl.String, "item_id": pl.String},
    )
    assert (qrels["zero"] == 0).all() and (qrels["rel"] == 1).all()
    return qrels.group_by("user_id").len("n_targets")


def _recall_from_rankings(rankings: pl.DataFrame, n_targets: pl.DataFrame, k: int) -> dict:
    hits = (
        rankings.filter(pl.col("rank") <= k)
        .group_by("system", "user_id")
        .agg(pl.col("hit").sum().alias("hits"))
    )
    per_user = n_targets.join(hits, on="user_id", how="left")
    assert per_user["hits"].null_count() == 0
    out = per_user.group_by("system").agg((pl.col("hits") / pl.col("n_targets")).mean())
    return dict(zip(out["system"].to_list(), out["hits"].to_list(), strict=True))


def _json_recall(row: dict, system: str) -> float:
    if system in ("semantic", "collaborative"):
        return row["recall"][system]
    if system == "oracle_select":
        return row["oracle"]["select"]
    return row["fusion"][system]["recall"]


def _json_ndcg(row: dict, system: str) -> float:
    if system in ("semantic", "collaborative"):
        return row["ndcg"][system]
    return row["fusion"][system]["ndcg"]


def _same_list_at(doc: dict, system: str, k: int) -> bool:
    """Whether ``system``'s list at the largest K (the file's) is the one evaluated at K."""
    kmax = max(int(key) for key in doc["k"])
    if system in ("oracle_select", "gated"):
        return k == kmax  # the per-user choice / the gated model is made at each K
    if system == "score_interpolation":
        alpha = doc["alpha_search"]["alpha"]
        return alpha[str(k)] == alpha[str(kmax)]  # alpha is chosen per K
    return True


def _ranx(runs, system: str, k: int) -> dict:
    ranx = pytest.importorskip("ranx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qrels = ranx.Qrels.from_file(str(runs / "qrels.txt"), kind="trec")
        run = ranx.Run.from_file(str(runs / f"{system}.run"), kind="trec")
        return ranx.evaluate(qrels, run, [f"recall@{k}", f"ndcg@{k}"])


@pytest.mark.parametrize("which", ["hits", "oracle"])
def test_rankings_are_the_lists_behind_the_json(which, hits_run, oracle_run):
    tmp, doc = hits_run if which == "hits" else oracle_run
    rankings = pl.read_parquet(tmp / "r.parquet")
    assert dict(rankings.schema) == RANKING_SCHEMA
    expected = {"semantic", "collaborative"}
    if which == "oracle":
        expected |= {"concat_fixed", "score_interpolation", "gated", "rrf", "oracle_select"}
    assert set(rankings["system"].unique()) == expected
    ks = sorted(int(k) for k in doc["k"])
    kmax = max(ks)
    assert rankings["rank"].min() == 1 and rankings["rank"].max() == kmax
    # one row per (system, user, rank), items distinct within a list, scores non-increasing
    assert rankings.select("system", "user_id", "rank").is_unique().all()
    assert rankings.select("system", "user_id", "item_id").is_unique().all()
    ordered = rankings.sort("system", "user_id", "rank")
    drops = ordered.group_by("system", "user_id").agg(pl.col("score").diff().max())
    assert (drops["score"].fill_null(0.0) <= 0).all()
    assert rankings["user_id"].n_unique() == doc["n_users"]
    n_targets = _n_targets(tmp / "runs")
    assert n_targets.height == doc["n_users"]
    assert n_targets["n_targets"].sum() == doc["n_targets"]
    for k in ks:
        recall = _recall_from_rankings(rankings, n_targets, k)
        for system, value in recall.items():
            if not _same_list_at(doc, system, k):
                continue
            assert value == pytest.approx(_json_recall(doc["k"][str(k)], system), abs=1e-12)


@pytest.mark.parametrize("which", ["hits", "oracle"])
def test_ranx_reproduces_recall_and_ndcg(which, hits_run, oracle_run):
    tmp, doc = hits_run if which == "hits" else oracle_run
    runs = tmp / "runs"
    systems = sorted(p.stem for p in runs.glob("*.run"))
    assert "semantic" in systems and "collaborative" in systems
    for k in (20, max(int(k) for k in doc["k"])):
        row = doc["k"][str(k)]
        for system in systems:
            if system == "oracle_select" or not _same_list_at(doc, system, k):
                continue  # its recall is checked from the rankings above
            scores = _ranx(runs, system, k)
            # complement's Recall@K divides by |T_u|, as ranx's recall does
            assert scores[f"recall@{k}"] == pytest.approx(_json_recall(row, system), abs=1e-9)
            assert scores[f"ndcg@{k}"] == pytest.approx(_json_ndcg(row, system), abs=1e-9)


def test_run_file_lines(hits_run):
    tmp, _ = hits_run
    lines = (tmp / "runs" / "semantic.run").read_text().splitlines()
    first = lines[0].split()
    assert len(first) == 6 and first[1] == "Q0" and first[3] == "1" and first[5] == "semantic"
    rankings = pl.read_parquet(tmp / "r.parquet").filter(pl.col("system") == "semantic")
    assert len(lines) == rankings.height


@pytest.mark.parametrize("which", ["hits", "oracle"])
def test_per_user_means_equal_the_json(which, hits_run, oracle_run):
    tmp, doc = hits_run if which == "hits" else oracle_run
    table = pl.read_parquet(tmp / "u.parquet")
    assert table.schema["user_id"] == pl.String and table.schema["K"] == pl.Int64
    assert table.schema["activity"] == pl.Int64
    for k, row in doc["k"].items():
        sub = table.filter(pl.col("K") == int(k))
        assert sub.height == row["n_users"] == doc["n_users"]
        for view in ("semantic", "collaborative"):
            assert sub[f"recall_{view}"].mean() == pytest.approx(row["recall"][view], abs=1e-12)
            assert sub[f"ndcg_{view}"].mean() == pytest.approx(row["ndcg"][view], abs=1e-12)
            assert sub[f"hit_{view}"].dtype == pl.Boolean
        if which == "hits":
            assert sub[f"hit_{view}"].mean() == pytest.approx(row["hit_rate"][view], abs=1e-12)
            counts = dict(sub["user_class"].value_counts().iter_rows())
            expected = {
                CLASS_NAMES[name]: c["count"]
                for name, c in row["user_classes"].items()
                if c["count"]
            }
            assert counts == expected
        else:
            for name, fused in row["fusion"].items():
                assert sub[f"recall_{name}"].mean() == pytest.approx(fused["recall"], abs=1e-12)
                assert sub[f"ndcg_{name}"].mean() == pytest.approx(fused["ndcg"], abs=1e-12)
            for bound in ("union", "budget", "select"):
                assert sub[f"oracle_{bound}"].mean() == pytest.approx(
                    row["oracle"][bound], abs=1e-12
                )


def test_per_user_classes_agree_between_hits_and_oracle(hits_run, oracle_run):
    a = pl.read_parquet(hits_run[0] / "u.parquet").select("user_id", "K", "user_class")
    b = pl.read_parquet(oracle_run[0] / "u.parquet").select("user_id", "K", "user_class")
    assert a.sort("user_id", "K").equals(b.sort("user_id", "K"))


def test_per_user_activity_is_the_history_length(hits_run):
    tmp, _ = hits_run
    table = pl.read_parquet(tmp / "u.parquet")
    assert (table["activity"] >= 1).all()
    # the same user has the same activity at every K
    assert table.group_by("user_id").agg(pl.col("activity").n_unique())["activity"].max() == 1


def test_per_item_overlap(tmp_path):
    doc = _run(tmp_path, "overlap", "--per-item", str(tmp_path / "i.parquet"))
    table = pl.read_parquet(tmp_path / "i.parquet")
    assert table.height == doc["n_items"]
    assert table["item_id"].dtype == pl.String and table["item_id"].is_unique().all()
    assert {"title", "popularity", "popularity_group"} <= set(table.columns)
    for k, row in doc["k"].items():
        assert table[f"overlap@{k}"].mean() == pytest.approx(row["overlap"], abs=1e-12)
        assert table[f"jaccard@{k}"].mean() == pytest.approx(row["jaccard"], abs=1e-12)
    groups = table.group_by("popularity_group").len()
    assert set(groups["popularity_group"]) <= {"cold", "mid", "hot"}


def test_per_item_overlap_sample_leaves_nulls(tmp_path):
    doc = _run(tmp_path, "overlap", "--sample", "50", "--per-item", str(tmp_path / "i.parquet"))
    table = pl.read_parquet(tmp_path / "i.parquet")
    k = next(iter(doc["k"]))
    assert table[f"overlap@{k}"].null_count() == table.height - 50
    assert table[f"overlap@{k}"].mean() == pytest.approx(doc["k"][k]["overlap"], abs=1e-12)


def test_per_item_structure(tmp_path):
    doc = _run(
        tmp_path, "structure", "--permutations", "2", "--per-item", str(tmp_path / "i.parquet")
    )
    table = pl.read_parquet(tmp_path / "i.parquet")
    column = "private_energy_collaborative"  # --direction sem2cf: CF predicted from semantic
    assert column in table.columns and "private_energy_semantic" not in table.columns
    energy = table[column].to_numpy()
    assert np.isfinite(energy).all()
    assert float(np.mean(energy)) == pytest.approx(doc["private_energy"]["mean"], rel=1e-9)


def test_report_writes_every_table(tmp_path):
    doc = _run(
        tmp_path,
        "report",
        "--n-boot", "100",
        "--permutations", "2",
        "--rankings", str(tmp_path / "r.parquet"),
        "--run-dir", str(tmp_path / "runs"),
        "--per-user", str(tmp_path / "u.parquet"),
        "--per-item", str(tmp_path / "i.parquet"),
    )  # fmt: skip
    rankings = pl.read_parquet(tmp_path / "r.parquet")
    assert "oracle_select" in set(rankings["system"])
    assert (tmp_path / "runs" / "qrels.txt").exists()
    users = pl.read_parquet(tmp_path / "u.parquet")
    for k, row in doc["hits"]["k"].items():
        sub = users.filter(pl.col("K") == int(k))
        assert sub["recall_semantic"].mean() == pytest.approx(row["recall"]["semantic"], abs=1e-12)
        counts = dict(sub["user_class"].value_counts().iter_rows())
        assert counts == {
            CLASS_NAMES[n]: c["count"] for n, c in row["user_classes"].items() if c["count"]
        }
    items = pl.read_parquet(tmp_path / "i.parquet")
    for k, row in doc["overlap"]["k"].items():
        assert items[f"overlap@{k}"].mean() == pytest.approx(row["overlap"], abs=1e-12)
    energy = items["private_energy_collaborative"].mean()
    assert energy == pytest.approx(doc["structure"]["private_energy"]["mean"], rel=1e-9)


@pytest.fixture(scope="module")
def align_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("align")
    doc = _run(
        tmp,
        "align",
        "--method", "darec,semproj",
        "--grid", "none",
        "--epochs", "1",
        "--n-boot", "20",
        "--rankings", str(tmp / "r.parquet"),
        "--run-dir", str(tmp / "runs"),
    )  # fmt: skip
    return tmp, doc


def _align_json(s: dict, system: str, metric: str) -> float:
    if system in ("semantic", "collaborative"):
        return s[metric][system]
    if system == "oracle_select":
        return s["oracle"]["select"]
    return s["fusion"][system][metric]


def test_align_rankings_are_the_lists_behind_each_setting(align_run):
    tmp, doc = align_run
    rankings = pl.read_parquet(tmp / "r.parquet")
    assert dict(rankings.schema) == {"setting": pl.String, **RANKING_SCHEMA}
    assert set(rankings["setting"]) == {"warm", "cold", "cold_all"}
    fusions = set(doc["settings"]["warm"]["fusion"]) - set(doc["systems"])
    expected = {"semantic", "collaborative", "oracle_select", *fusions, *doc["systems"]}
    assert "darec_ablated" in expected
    assert rankings.select("setting", "system", "user_id", "rank").is_unique().all()
    assert rankings["rank"].max() == doc["k"] == 20
    log_users = {str(u) for u in pl.read_parquet(FIXTURE / "interactions.parquet")["user_id"]}
    item_ids = {str(i) for i in np.load(FIXTURE / "item_ids.npy")}
    assert set(rankings["user_id"]) <= log_users and set(rankings["item_id"]) <= item_ids
    for setting, s in doc["settings"].items():
        sub = rankings.filter(pl.col("setting") == setting).drop("setting")
        assert set(sub["system"]) == expected
        assert sub["user_id"].n_unique() == s["n_users"]
        n_targets = _n_targets(tmp / "runs" / setting)
        assert n_targets["n_targets"].sum() == s["n_targets"]
        recall = _recall_from_rankings(sub, n_targets, 20)
        for system, value in recall.items():
            assert value == pytest.approx(_align_json(s, system, "recall"), abs=1e-12), system


def test_ranx_reproduces_align_recall_and_ndcg(align_run):
    tmp, doc = align_run
    for setting, s in doc["settings"].items():
        runs = tmp / "runs" / setting
        systems = sorted(p.stem for p in runs.glob("*.run"))
        assert {"semantic", "darec", "darec_ablated", "semproj", "oracle_select"} <= set(systems)
        for system in systems:
            scores = _ranx(runs, system, 20)
            assert scores["recall@20"] == pytest.approx(
                _align_json(s, system, "recall"), abs=1e-9
            ), (setting, system)
            if system != "oracle_select":
                assert scores["ndcg@20"] == pytest.approx(
                    _align_json(s, system, "ndcg"), abs=1e-9
                ), (setting, system)


def test_align_diversity_recomputed_from_its_rankings(align_run):
    """Coverage and intra-list diversity of every system, by brute force from the lists."""
    tmp, doc = align_run
    div = doc["diversity"]
    assert div["view"] == "semantic" and div["k"] == 20
    assert {"semantic", "collaborative", "darec", "darec_ablated", "semproj"} <= set(
        div["effective_rank"]
    )
    rankings = pl.read_parquet(tmp / "r.parquet")
    ids = [str(i) for i in np.load(FIXTURE / "item_ids.npy")]
    sem = np.load(FIXTURE / "sem.npy").astype(np.float64)
    unit = sem / np.linalg.norm(sem, axis=1, keepdims=True)
    row_of = {item: r for r, item in enumerate(ids)}
    for setting, part in div["settings"].items():
        sub = rankings.filter(pl.col("setting") == setting)
        assert part["n_items"] == doc["settings"][setting]["n_candidates"]
        for system, value in part["coverage"].items():
            if system == "oracle_select":
                continue
            lists = sub.filter(pl.col("system") == system)
            assert value == pytest.approx(lists["item_id"].n_unique() / part["n_items"])
            per_user = []
            for _, group in lists.group_by("user_id"):
                x = unit[[row_of[i] for i in group["item_id"]]]
                if x.shape[0] < 2:
                    continue
                cos = x @ x.T
                n = x.shape[0]
                per_user.append(1.0 - (cos.sum() - np.trace(cos)) / (n * (n - 1)))
            expected = float(np.mean(per_user))
            assert part["intra_list_diversity"][system] == pytest.approx(expected, abs=1e-6)


def test_per_item_probe(tmp_path):
    doc = _run(
        tmp_path, "probe", "--capacity", "linear", "--shift", "popularity",
        "--per-item", str(tmp_path / "i.parquet"),
    )  # fmt: skip
    table = pl.read_parquet(tmp_path / "i.parquet")
    assert table.height == doc["n_items"]
    split = table["probe_split"]
    assert (split == "test").sum() == doc["shift"]["n_test"]
    assert (split == "train").sum() == doc["shift"]["n_train"]
    cap = doc["capacities"]["linear"]
    for part in ("train", "test"):
        rows = table.filter(pl.col("probe_split") == part)
        mean = rows["probe_cosine_linear"].mean()
        assert mean == pytest.approx(cap[part]["cosine"], rel=1e-9)
    errors = table["probe_sq_error_linear"].to_numpy()
    assert np.isfinite(errors).all() and (errors >= 0).all()
