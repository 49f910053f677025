"""``complement compare``: N named views on the command line, in a config and from Python."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from tests.conftest import FIXTURE

F = FIXTURE
IDS = F / "item_ids.npy"
THREE = (
    "--view", f"sem={F / 'sem.npy'}:{IDS}",
    "--view", f"cf={F / 'cf.npy'}:{IDS}",
    "--view", f"cf1={F / 'cf_seed1.npy'}:{IDS}",
)  # fmt: skip
LOG = ("--interactions", str(F / "interactions.parquet"), "--split", "user-temporal")


@pytest.fixture
def compare(tmp_path, monkeypatch):
    """Run ``complement compare ARGS`` in a clean folder; (result, parsed --json or None)."""
    from complement.cli.commands.compare import compare as command

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("compare")(command)  # the only command: invoked without its name
    monkeypatch.chdir(tmp_path)

    def run(*args, json_out=True):
        argv = [str(a) for a in args]
        path = tmp_path / "compare.json"
        if json_out:
            argv += ["--json", str(path)]
        result = CliRunner().invoke(app, argv)
        doc = json.loads(path.read_text()) if json_out and path.exists() else None
        if path.exists():
            path.unlink()
        return result, doc

    return run


def test_two_fixture_views_give_the_overlap_commands_numbers(compare, invoke):
    result, doc = compare(
        "--view", f"sem={F / 'sem.npy'}:{IDS}", "--view", f"cf={F / 'cf.npy'}:{IDS}",
        "--k", "10,20",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ref_result, ref = invoke(
        "overlap", F / "sem.npy", F / "cf.npy", "--sem-ids", IDS, "--cf-ids", IDS, "--k", "10,20"
    )
    assert ref_result.exit_code == 0, ref_result.output
    pair = doc["pairs"]["sem"]["cf"]
    assert pair["cka_linear"] == pytest.approx(ref["cka_linear"], rel=1e-12)
    for k in ("10", "20"):
        for key in ("overlap", "jaccard", "overlap_median", "zero_fraction", "chance"):
            assert pair["k"][k][key] == ref["k"][k][key], key
        assert pair["k"][k]["ci95"] == pytest.approx(ref["k"][k]["ci95"], abs=1e-12)
    assert doc["n_items"] == ref["n_items"] == 1682
    assert doc["user_level"]["status"] == "not run" and "k" not in doc


def test_three_views_write_every_key(compare):
    result, doc = compare(*THREE, *LOG, "--k", "10,20", "--n-boot", "200")
    assert result.exit_code == 0, result.output
    assert doc["schema"] == "complement.compare/1"
    assert doc["views"] == ["sem", "cf", "cf1"] and doc["anchor"] is None
    for a, b in (("sem", "cf"), ("sem", "cf1"), ("cf", "cf1")):
        pair = doc["pairs"][a][b]
        for k in ("10", "20"):
            assert 0 <= pair["k"][k]["overlap"] <= 1
        assert -1 <= pair["cka_linear"] <= 1 and -1 <= pair["cka_debiased"] <= 1
    # the replicate agrees with cf far more than the semantic view does
    assert doc["pairs"]["cf"]["cf1"]["k"]["20"]["overlap"] > 5 * doc["pairs"]["sem"]["cf"]["k"][
        "20"]["overlap"]  # fmt: skip
    assert doc["user_level"] == "ok"
    for k in ("10", "20"):
        row = doc["k"][k]
        assert set(row["recall"]) == {"sem", "cf", "cf1", "ci95"}
        assert set(row["unique_hits"]) == {"sem", "cf", "cf1"}
        assert row["oracle"]["union"] >= row["oracle"]["budget"] >= row["oracle"]["select"]
        assert row["oracle"]["select"] >= row["best_single"]["recall"]
        steps = row["greedy"]
        assert [set(s) >= {"view", "budget", "gain"} for s in steps] == [True] * 3
        assert sorted(s["view"] for s in steps) == ["cf", "cf1", "sem"]
        assert steps[0]["view"] == row["best_single"]["view"] and steps[0]["gain"] is None
        assert steps[-1]["budget"] == pytest.approx(row["oracle"]["budget"])
        assert set(row["pairs"]) == {"sem", "cf"} and set(row["pairs"]["sem"]) == {"cf", "cf1"}
    assert {"cka_debiased", "unique_hits", "greedy", "budget"} <= set(doc["definitions"])
    assert doc["split"]["kind"] == "user-temporal"
    assert set(doc["provenance"]["inputs"]) >= {"view.sem", "view.cf1.ids", "interactions"}
    for title in ("Neighbour overlap@k", "CKA", "Greedy forward selection", "unique hits"):
        assert title in result.output
    _, again = compare(*THREE, *LOG, "--k", "10,20", "--n-boot", "200")
    assert again == doc  # deterministic


def test_anchor_ranks_what_each_view_adds(compare):
    result, doc = compare(*THREE, *LOG, "--k", "20", "--n-boot", "100", "--anchor", "cf")
    assert result.exit_code == 0, result.output
    row = doc["k"]["20"]
    assert doc["anchor"] == "cf" and row["greedy"][0]["view"] == "cf"
    assert set(row["pairs"]) == {"cf"} and set(row["pairs"]["cf"]) == {"sem", "cf1"}
    added = row["anchor"]["added"]
    assert set(added) == {"sem", "cf1"} and sorted(row["anchor"]["ranking"]) == ["cf1", "sem"]
    gains = [added[v]["gain"] for v in row["anchor"]["ranking"]]
    assert gains == sorted(gains, reverse=True)
    assert row["anchor"]["recall"] == row["recall"]["cf"]
    assert "What each view adds to cf" in result.output


def test_views_from_a_config_table(compare, tmp_path):
    (tmp_path / "complement.toml").write_text(
        "[views]\n"
        f'sem = {{path = "{F / "sem.npy"}", ids = "{IDS}"}}\n'
        f'cf = {{path = "{F / "cf.npy"}", ids = "{IDS}"}}\n'
        "[options]\nk = 5\n"
    )
    result, doc = compare()
    assert result.exit_code == 0, result.output
    assert doc["views"] == ["sem", "cf"] and set(doc["pairs"]["sem"]["cf"]["k"]) == {"5"}


def test_compare_refusals_are_one_line(compare, tmp_path):
    pos = tmp_path / "positional.npy"
    np.save(pos, np.load(F / "cf.npy"))
    cases = [
        ((), "no view given; compare needs at least two views"),
        (("--view", f"sem={F / 'sem.npy'}:{IDS}"), "1 view given; compare needs at least two"),
        (("--anchor", "cf"), "no view given; compare needs at least two views"),
        ((*THREE, "--anchor", "nope"), "not one of the views"),
        (("--view", f"sem={F / 'sem.npy'}:{IDS}", "--view", f"p={pos}"), "positional-ids"),
        ((*THREE, "--k", "1700"), "not smaller"),
    ]
    for args, message in cases:
        result, _ = compare(*args, json_out=False)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_study_compare_takes_arrays_and_paths():
    import complement as cm

    sem = np.load(F / "sem.npy")
    ids = np.load(IDS)
    study = cm.Study.from_config(F / "complement.toml")
    section = study.compare(
        view=[("sem", sem, ids), ("cf", F / "cf.npy", IDS), f"cf1={F / 'cf_seed1.npy'}:{IDS}"],
        k=[20],
        n_boot=100,
    )
    doc = section.to_dict()
    assert doc["views"] == ["sem", "cf", "cf1"]
    overlap = study.overlap(k=[20]).to_dict()
    assert doc["pairs"]["sem"]["cf"]["k"]["20"]["overlap"] == overlap["k"]["20"]["overlap"]
    assert doc["k"]["20"]["recall"]["cf"] > doc["k"]["20"]["recall"]["sem"]
    inputs = section.provenance["inputs"]
    assert inputs["view.sem"]["path"].startswith("<in-memory array")
    assert inputs["view.cf"]["sha256"] == hashlib.sha256((F / "cf.npy").read_bytes()).hexdigest()


def test_html_shows_the_heatmaps(compare):
    from complement.report.html import render_html
    from complement.report.markdown import render_markdown

    _, doc = compare(*THREE, *LOG, "--k", "20", "--n-boot", "50")
    page = render_html(doc)
    assert page.count("<img") == 2 and "debiased" in page
    assert "Neighbour overlap@k between views" in render_markdown(doc)


def test_join_line_says_which_items_each_view_leaves_out(compare, tmp_path):
    from complement.report.html import render_html
    from complement.report.markdown import render_markdown

    rng = np.random.default_rng(0)
    views = []
    for name, ids in (("a", np.arange(60)), ("d", np.arange(10, 70)), ("e", np.arange(80))):
        np.save(tmp_path / f"{name}.npy", rng.normal(size=(len(ids), 8)).astype(np.float32))
        np.save(tmp_path / f"{name}_ids.npy", ids)
        views += ["--view", f"{name}={tmp_path / f'{name}.npy'}:{tmp_path / f'{name}_ids.npy'}"]
    result, doc = compare(*views, "--k", "5")
    assert result.exit_code == 0, result.output
    assert doc["join"]["not_shared"] == {"a": 10, "d": 10, "e": 30}
    line = "left out (not in every view): 10 of a, 10 of d, 30 of e"
    assert line in " ".join(result.output.split())
    assert line in render_markdown(doc) and line in render_html(doc)
    assert "only outside" not in result.output
