"""``--segment-col`` and the diversity part on hits, oracle, overlap, compare and report."""

from __future__ import annotations

import json

import pytest
from reportdata import write_dataset

from complement.report.html import render_html
from complement.report.markdown import render_markdown
from complement.report.model import document_tables
from tests.conftest import FIXTURE

CONFIG = ("--config", FIXTURE / "complement.toml")
FAST = ("--k", "10,20", "--n-boot", "30")


def _weighted(segments, pick):
    rows = [(s["n_users"], s) for s in segments["by_segment"].values()]
    return sum(n * pick(s) for n, s in rows) / sum(n for n, _ in rows)


def test_hits_per_genre_tables_on_the_fixture(invoke):
    result, doc = invoke("hits", *CONFIG, *FAST, "--segment-col", "genres")
    assert result.exit_code == 0, result.output
    seg = doc["segments"]
    assert (seg["column"], seg["source"], seg["unit"], seg["minimum"]) == (
        "genres", "items", "users", 20,
    )  # fmt: skip
    by = seg["by_segment"]
    assert {"Action", "Comedy", "Drama", "Film-Noir", "Western"} <= set(by)
    assert by["unknown"] == {"n_users": by["unknown"]["n_users"], "too_small": True}
    assert by["unknown"]["n_users"] < 20
    drama = by["Drama"]
    assert 20 <= drama["n_users"] <= doc["n_users"]
    assert drama["n_targets"] < doc["n_targets"]
    row = drama["k"]["10"]
    assert set(row) >= {"recall", "ndcg", "hit_rate", "list_jaccard", "hits", "user_classes"}
    assert "groups" not in row
    lo, hi = row["recall"]["ci95"]["collaborative"]
    assert lo <= row["recall"]["collaborative"] <= hi
    assert sum(c["count"] for c in row["user_classes"].values()) == drama["n_users"]
    # an item segment's users are those with a test item of that genre: pooled hits add up
    assert "segments" in doc["definitions"] and "too_small" in doc["definitions"]
    assert "By segment of genres (item segments)" in result.output
    assert "too small" in result.output


@pytest.mark.parametrize("command", ["hits", "oracle"])
def test_activity_segments_partition_users_and_average_to_the_whole(invoke, command):
    result, doc = invoke(command, *CONFIG, *FAST, "--segment-col", "activity")
    assert result.exit_code == 0, result.output
    seg = doc["segments"]
    assert seg["source"] == "activity" and list(seg["by_segment"]) == ["cold", "mid", "hot"]
    assert sum(s["n_users"] for s in seg["by_segment"].values()) == doc["n_users"]
    assert sum(s["n_targets"] for s in seg["by_segment"].values()) == doc["n_targets"]
    for k in ("10", "20"):
        whole = doc["k"][k]
        for view in ("semantic", "collaborative"):
            for metric in ("recall", "ndcg"):
                got = _weighted(seg, lambda s, m=metric, v=view, k=k: s["k"][k][m][v])
                assert got == pytest.approx(whole[metric][view], rel=1e-12)
        if command == "hits":
            got = _weighted(seg, lambda s, k=k: s["k"][k]["list_jaccard"])
            assert got == pytest.approx(whole["list_jaccard"], rel=1e-12)
            got = _weighted(seg, lambda s, k=k: s["k"][k]["hit_rate"]["semantic"])
            assert got == pytest.approx(whole["hit_rate"]["semantic"], rel=1e-12)
        else:
            for bound in ("union", "budget", "select"):
                got = _weighted(seg, lambda s, b=bound, k=k: s["k"][k]["oracle"][b])
                assert got == pytest.approx(whole["oracle"][bound], rel=1e-12)
            for fused in whole["fusion"]:
                got = _weighted(seg, lambda s, f=fused, k=k: s["k"][k]["fusion"][f]["recall"])
                assert got == pytest.approx(whole["fusion"][fused]["recall"], rel=1e-12)


def test_diversity_is_always_reported(invoke):
    result, doc = invoke("oracle", *CONFIG, *FAST)
    assert result.exit_code == 0, result.output
    assert "segments" not in doc  # only with --segment-col
    div = doc["diversity"]
    assert div["view"] == "semantic" and div["n_items"] == doc["n_items"]
    assert set(div["effective_rank"]) == {"semantic", "collaborative"}
    assert 1 <= div["effective_rank"]["collaborative"] <= 64
    row = div["k"]["10"]
    assert {"semantic", "collaborative"} <= set(row["coverage"])
    assert set(row["coverage"]) == set(row["intra_list_diversity"])
    assert len(row["coverage"]) > 2  # the fusions too
    for value in row["coverage"].values():
        assert 0 < value <= 1
    assert div["k"]["20"]["coverage"]["semantic"] >= row["coverage"]["semantic"]
    assert "effective_rank" in doc["definitions"]
    assert "Diversity: catalogue coverage" in result.output
    _, other = invoke("oracle", *CONFIG, *FAST, "--diversity-view", "cf")
    assert other["diversity"]["view"] == "collaborative"
    assert other["diversity"]["effective_rank"] == div["effective_rank"]
    assert other["diversity"]["k"]["10"]["coverage"] == row["coverage"]
    ild = other["diversity"]["k"]["10"]["intra_list_diversity"]
    assert ild["semantic"] != row["intra_list_diversity"]["semantic"]


def test_overlap_item_segments_and_user_segments_refused(invoke):
    result, doc = invoke("overlap", *CONFIG, "--k", "10", "--segment-col", "genres")
    assert result.exit_code == 0, result.output
    seg = doc["segments"]
    assert seg["unit"] == "items" and seg["minimum"] == 20
    drama = seg["by_segment"]["Drama"]
    assert drama["n_items"] > 20
    assert 0 <= drama["k"]["10"]["jaccard"] <= drama["k"]["10"]["overlap"] <= 1
    assert (
        sum(s["n_items"] for s in seg["by_segment"].values()) >= doc["n_queries"]
    )  # list column: an item may count in several genres
    assert "Mean overlap@k by segment of genres" in result.output
    result, _ = invoke("overlap", *CONFIG, "--k", "10", "--segment-col", "activity")
    assert result.exit_code == 2 and "item-level" in result.output


def test_compare_pairs_per_genre_from_the_lists_already_found(invoke):
    """compare --segment-col genres: every pair's item-level table per genre; sem–cf agrees
    with the overlap command's genre table (the same per-item overlaps); user segments do not
    apply to it."""
    ids = FIXTURE / "item_ids.npy"
    views = [("sem", "sem.npy"), ("cf", "cf.npy"), ("cf1", "cf_seed1.npy")]
    args = [a for n, f in views for a in ("--view", f"{n}={FIXTURE / f}:{ids}")]
    result, doc = invoke("compare", *CONFIG, *args, *FAST, "--segment-col", "genres")
    assert result.exit_code == 0, result.output
    seg = doc["pair_segments"]
    assert list(doc).index("pair_segments") == list(doc).index("segments") + 1
    assert (seg["column"], seg["source"], seg["unit"], seg["minimum"]) == (
        "genres", "items", "items", 20,
    )  # fmt: skip
    by = seg["by_segment"]
    assert by["unknown"] == {"n_items": by["unknown"]["n_items"], "too_small": True}
    assert set(by) == set(doc["segments"]["by_segment"])
    pairs = [("sem", "cf"), ("sem", "cf1"), ("cf", "cf1")]
    for row in (r for r in by.values() if not r.get("too_small")):
        assert [(a, b) for a in row["pairs"] for b in row["pairs"][a]] == pairs
        for a, b in pairs:
            for k in ("10", "20"):
                cell = row["pairs"][a][b]["k"][k]
                assert set(cell) == {"overlap", "jaccard", "overlap_median", "zero_fraction",
                                     "ci95"}  # fmt: skip
                assert 0 <= cell["jaccard"] <= cell["overlap"] <= 1
                assert cell["ci95"][0] <= cell["overlap"] <= cell["ci95"][1]
    # the n_items-weighted mean over a partition would be the whole; genres overlap, so check
    # against the overlap command, whose genre table has the same per-item values
    _, ref = invoke("overlap", *CONFIG, "--k", "10,20", "--segment-col", "genres")
    for name, row in ref["segments"]["by_segment"].items():
        assert by[name]["n_items"] == row["n_items"]
        if row.get("too_small"):
            continue
        for k in ("10", "20"):
            got = by[name]["pairs"]["sem"]["cf"]["k"][k]
            assert got["overlap"] == pytest.approx(row["k"][k]["overlap"], rel=1e-12)
            assert got["jaccard"] == pytest.approx(row["k"][k]["jaccard"], rel=1e-12)
            assert got["ci95"] == pytest.approx(row["k"][k]["ci95"], rel=1e-9)
    assert "pair_segments" in doc["definitions"]
    title = "Neighbour overlap@k of each pair by segment of genres"
    assert title in result.output and "sem–cf1" in result.output
    table = {t.key: t for t in document_tables(doc)}["compare.pair_segments"]
    assert table.headers == ("k", "segment", "items", "sem–cf", "sem–cf1", "cf–cf1")
    drama = next(r for r in table.rows if r[1] == "Drama")  # the first K's group
    assert drama[3] == f"{by['Drama']['pairs']['sem']['cf']['k']['10']['overlap']:.3f}"
    assert [r[3] for r in table.rows if r[1] == "unknown"] == ["too small"] * 2
    assert title in render_markdown(doc) and title in render_html(doc)
    _, by_activity = invoke("compare", *CONFIG, *args, *FAST, "--segment-col", "activity")
    assert by_activity["pair_segments"]["status"] == "not applicable"
    assert by_activity["pairs"] == doc["pairs"]  # the whole table does not change
    assert {"compare.segments", "compare.pair_segments"} <= {
        t.key for t in document_tables(by_activity)
    }


@pytest.fixture
def small(tmp_path):
    """The report's synthetic data, with an items table and a users table."""
    config = write_dataset(tmp_path / "data")
    folder = config.parent
    (folder / "items.csv").write_text(
        "item_id,kind,score\n" + "".join(f"{1000 + i},k{i % 2},{i / 7}\n" for i in range(160))
    )
    (folder / "users.csv").write_text(
        "user_id,country\n" + "".join(f"{u},{'XX' if u < 3 else 'AB'[u % 2]}\n" for u in range(80))
    )
    return config


def test_user_segments_from_a_users_table_in_compare_and_report(invoke, small, tmp_path):
    folder = small.parent
    views = ("--view", f"s={folder / 'sem.npy'}:{folder / 'item_ids.txt'}",
             "--view", f"c={folder / 'cf.npy'}:{folder / 'item_ids.txt'}")  # fmt: skip
    log = ("--interactions", folder / "log.csv", "--split", "temporal", "--test-frac", "0.25")
    users = ("--users", folder / "users.csv", "--segment-col", "country")
    result, doc = invoke("compare", *views, *log, "--k", "5", "--n-boot", "30", *users)
    assert result.exit_code == 0, result.output
    seg = doc["segments"]
    assert seg["source"] == "users" and seg["by_segment"]["XX"]["too_small"]
    both = [seg["by_segment"][c] for c in ("A", "B")]
    assert sum(s["n_users"] for s in both) + seg["by_segment"]["XX"]["n_users"] == doc["n_users"]
    for s in both:
        assert set(s["k"]["5"]["recall"]) >= {"s", "c"}
    assert doc["diversity"]["view"] == "s" and set(doc["diversity"]["effective_rank"]) == {"s", "c"}
    out = tmp_path / "report.json"
    result, _ = invoke("report", "--config", small, *users, "--json", out, json_out=False)
    assert result.exit_code == 0, result.output
    rep = json.loads(out.read_text())
    assert rep["overlap"]["segments"]["status"] == "not applicable"
    for name in ("hits", "oracle"):
        assert rep[name]["segments"]["source"] == "users"
        assert set(rep[name]["segments"]["by_segment"]) == {"A", "B", "XX"}
    keys = [t.key for t in document_tables(rep)]
    assert {"hits.segments", "oracle.segments", "overlap.segments", "hits.diversity"} <= set(keys)


def test_segment_errors_are_one_line(invoke, small):
    folder = small.parent
    base = ("hits", "--config", small, "--n-boot", "10")
    cases = {
        ("--segment-col", "kind"): "needs a table",
        ("--items", folder / "items.csv", "--segment-col", "nope"): "is not a column",
        ("--items", folder / "items.csv", "--segment-col", "score"): "has type Float64",
        ("--users", folder / "missing.csv", "--segment-col", "country"): "file not found",
        ("--diversity-view", "graph"): "is not one of the views",
    }
    for extra, message in cases.items():
        result, doc = invoke(*base, *extra)
        assert result.exit_code == 2, (extra, result.output)
        assert message in result.output and doc is None
        assert "Traceback" not in result.output
    result, doc = invoke(*base, "--items", folder / "items.csv", "--segment-col", "kind")
    assert result.exit_code == 0, result.output
    assert set(doc["segments"]["by_segment"]) == {"k0", "k1"}


def test_segment_tables_render_without_the_segments():
    doc = {
        "schema": "complement.hits/1",
        "k": {},
        "segments": {"column": "c", "source": "users", "status": "not run", "reason": "why"},
    }
    tables = [t for t in document_tables(doc) if t.key == "hits.segments"]
    assert tables and tables[0].notes == ("not run: why",)


def test_study_reads_each_calls_segment_column():
    from complement import Study

    study = Study.from_config(FIXTURE / "complement.toml", k=[10], n_boot=10)
    plain = study.hits().to_dict()
    by_activity = study.hits(segment_col="activity").to_dict()
    by_genre = study.overlap(segment_col="genres").to_dict()
    assert "segments" not in plain and "diversity" in plain
    assert by_activity["segments"]["source"] == "activity"
    assert by_genre["segments"]["source"] == "items"
    assert by_activity["k"] == plain["k"]  # the whole table does not change


@pytest.mark.parametrize("command", ["hits", "oracle", "overlap", "compare"])
def test_every_segment_too_small_still_lists_them(invoke, small, command):
    """Two items a label: no segment reaches the minimum, every one is a "too small" row at
    every K (the run's K), with a note that says all are too small."""
    folder = small.parent
    (folder / "pairs.csv").write_text(
        "item_id,pair\n" + "".join(f"{1000 + i},p{i % 80}\n" for i in range(160))
    )
    extra: tuple = ()
    if command == "compare":
        extra = tuple(
            a for n, f in (("s", "sem.npy"), ("c", "cf.npy"))
            for a in ("--view", f"{n}={folder / f}:{folder / 'item_ids.txt'}")
        )  # fmt: skip
    segments = ("--items", folder / "pairs.csv", "--segment-col", "pair")
    boot = () if command == "overlap" else ("--n-boot", "10")
    result, doc = invoke(command, "--config", small, *extra, "--k", "5,10", *boot, *segments)
    assert result.exit_code == 0, result.output
    by = doc["segments"]["by_segment"]
    assert len(by) == 80 and all(s["too_small"] for s in by.values())
    keys = [f"{command}.segments"] + (["compare.pair_segments"] if command == "compare" else [])
    tables = {t.key: t for t in document_tables(doc)}
    for key in keys:
        table = tables[key]
        assert [r[0] for r in table.rows] == ["5", *[""] * 79, "10", *[""] * 79], key
        assert {r[3] for r in table.rows} == {"too small"}
        assert any("every segment has fewer than 20" in n for n in table.notes)
    assert "p79" in render_markdown(doc) and "p79" in render_html(doc)
