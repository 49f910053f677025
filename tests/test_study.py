"""The Python API: every Study method gives its command's --json document (less provenance)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import complement as cm
from complement.errors import ComplementError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "movielens-100k"

CONFIG = FIXTURE / "complement.toml"

#: (method, positional args, keyword options) and the same call on the command line
CASES = {
    "overlap": ((), {"k": [10, 20]}, ["overlap", "--k", "10,20"]),
    "hits": ((), {"k": [20], "n_boot": 200}, ["hits", "--k", "20", "--n-boot", "200"]),
    "oracle": ((), {"k": [20], "n_boot": 200}, ["oracle", "--k", "20", "--n-boot", "200"]),
    "probe": (
        (),
        {"capacity": "linear", "shift": "temporal"},
        ["probe", "--capacity", "linear", "--shift", "temporal"],
    ),
    "structure": ((), {"permutations": 5}, ["structure", "--permutations", "5"]),
    "explain": (("Toy Story",), {"neighbours": 5}, ["explain", "Toy Story", "--neighbours", "5"]),
}


def _without(doc: dict, *keys: str) -> dict:
    return {k: v for k, v in doc.items() if k not in keys}


@pytest.fixture(scope="module")
def study() -> cm.Study:
    return cm.Study.from_config(CONFIG)


@pytest.fixture(scope="module")
def cli_docs(tmp_path_factory) -> dict[str, dict]:
    from complement.cli.app import app

    folder = tmp_path_factory.mktemp("cli")
    runner = CliRunner()
    docs = {}
    for name, (_, _, argv) in CASES.items():
        path = folder / f"{name}.json"
        result = runner.invoke(
            app, [*argv, "--config", str(CONFIG), "--quiet", "--json", str(path)]
        )
        assert result.exit_code == 0, result.output
        docs[name] = json.loads(path.read_text())
    return docs


@pytest.mark.parametrize("name", list(CASES))
def test_method_equals_command_json(study, cli_docs, name):
    args, options, _ = CASES[name]
    section = getattr(study, name)(*args, **options)
    cli = cli_docs[name]
    assert section.to_dict() == _without(cli, "provenance")
    assert section.schema == cli["schema"] == f"complement.{name}/1"
    # the same flags resolve to the same settings, so the whole document matches too
    assert section.document() == cli


def test_report_equals_command_json(study, tmp_path):
    from complement.cli.app import app

    path = tmp_path / "report.json"
    result = CliRunner().invoke(
        app, ["report", "--config", str(CONFIG), "--quiet", "--json", str(path)]
    )
    assert result.exit_code == 0, result.output
    cli = json.loads(path.read_text())
    rep = study.report()
    assert _without(rep.to_dict(), "timings") == _without(cli, "timings")
    rep.write_html(tmp_path / "r.html")
    rep.write_markdown(tmp_path / "r.md")
    rep.write_json(tmp_path / "r.json")
    assert "<html" in (tmp_path / "r.html").read_text()
    assert "complement report" in (tmp_path / "r.md").read_text()
    assert json.loads((tmp_path / "r.json").read_text())["schema"] == "complement.report/1"


def test_arrays_and_frames_equal_files():
    """Inputs given as arrays and a polars frame give the numbers of the files."""
    ids = np.load(FIXTURE / "item_ids.npy")
    in_memory = cm.Study(
        sem=np.load(FIXTURE / "sem.npy"),
        cf=np.load(FIXTURE / "cf.npy"),
        sem_ids=ids,
        cf_ids=ids,
        interactions=pl.read_parquet(FIXTURE / "interactions.parquet"),
        cf_users=np.load(FIXTURE / "cf_users.npy"),
        cf_users_ids=np.load(FIXTURE / "user_ids.npy"),
        split="user-temporal",
        test_frac=0.2,
        valid_frac=0.1,
        seed=0,
    )
    files = cm.Study(
        sem=FIXTURE / "sem.npy",
        cf=str(FIXTURE / "cf.npy"),
        sem_ids=FIXTURE / "item_ids.npy",
        cf_ids=FIXTURE / "item_ids.npy",
        interactions=FIXTURE / "interactions.parquet",
        cf_users=FIXTURE / "cf_users.npy",
        cf_users_ids=FIXTURE / "user_ids.npy",
        split="user-temporal",
        test_frac=0.2,
        valid_frac=0.1,
        seed=0,
    )
    a, b = in_memory.hits(k=[10], n_boot=100).to_dict(), files.hits(k=[10], n_boot=100).to_dict()
    assert a["k"] == b["k"] and a["split"] == b["split"]
    prov = in_memory.hits(k=[10], n_boot=100).document()["provenance"]
    assert prov["inputs"]["semantic"]["path"].startswith("<in-memory array 1682×384")
    assert len(prov["inputs"]["semantic"]["sha256"]) == 64


def test_loads_once_and_reloads_when_inputs_change(study):
    first = study._context(study.settings("hits"), need_split=True)
    again = study._context(study.settings("oracle"), need_split=True)
    assert first.views is again.views and first.split is again.split
    other = study._context(study.settings("hits", seed=1), need_split=True)
    assert other.views is not first.views


def test_keywords_are_the_options(study):
    with pytest.raises(TypeError, match="did you mean 'test_frac'"):
        cm.Study(test_fracc=0.3)
    with pytest.raises(TypeError, match="capacity"):
        study.overlap(capacity="linear")  # an option of probe, not of overlap
    with pytest.raises(ComplementError, match="needs an interaction log"):
        cm.Study(sem=FIXTURE / "sem.npy", cf=FIXTURE / "cf.npy").hits()


def test_public_names_documented():
    for name in cm.__all__:
        obj = getattr(cm, name)
        if callable(obj):
            assert obj.__doc__, name
    for method in ("overlap", "hits", "oracle", "probe", "structure", "explain", "align", "report"):
        assert getattr(cm.Study, method).__doc__, method


def test_item_overlap_runs_with_defaults():
    rng = np.random.default_rng(0)
    sem, cf = rng.standard_normal((60, 8)), rng.standard_normal((60, 4))
    result = cm.item_overlap(sem.astype(np.float32), cf.astype(np.float32))
    assert sorted(result.per_k) == [10, 20, 50]


def test_reprs_are_short_and_notebooks_see_tables(study):
    section = study.overlap(k=[10, 20])
    text = repr(section)
    assert text.startswith("Section('overlap', schema='complement.overlap/1'") and len(text) < 200
    assert "\n" not in text
    markdown = section._repr_markdown_()
    assert markdown is not None and "| k | overlap |" in markdown
    rep = study.report(k=[10], n_boot=50, permutations=2)
    assert repr(rep) == (
        "Report(sections={overlap: ok, hits: ok, oracle: ok, probe: ok, structure: ok})"
    )
    assert "## complement report" in rep._repr_markdown_()
    for name, sec in rep.sections.items():
        assert sec is not None and len(repr(sec)) < 200, name


def test_to_dict_is_a_copy(study, tmp_path):
    section = study.overlap(k=[10])
    first = section.to_dict()
    first["k"]["10"]["overlap"] = -1.0
    first["definitions"].clear()
    assert section.to_dict()["k"]["10"]["overlap"] != -1.0
    assert section.to_dict()["definitions"]
    whole = section.document()
    whole["provenance"]["inputs"].clear()
    assert section.document()["provenance"]["inputs"]
    rep = study.report(k=[10], n_boot=50, permutations=2)
    doc = rep.to_dict()
    doc["overlap"]["k"]["10"]["overlap"] = -1.0
    rep.write_json(tmp_path / "r.json")
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["overlap"]["k"]["10"]["overlap"] != -1.0
    assert rep.to_dict()["overlap"]["k"]["10"]["overlap"] != -1.0
