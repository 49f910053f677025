"""``complement report``: one document, deterministic, each section equal to its command's."""

from __future__ import annotations

import pytest
from reportdata import dataset, load, report, without_timings, write_dataset

from complement.cli.app import app


@pytest.fixture(scope="module")
def data():
    return dataset("base")


def _run(runner, *args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_report_is_deterministic_and_complete(runner, data, tmp_path):
    a, b = report(data), tmp_path / "b.json"
    result = _run(runner, "report", "--config", data, "--json", b)
    assert without_timings(a.read_text()) == without_timings(b.read_text())
    doc = load(a)
    assert doc["schema"] == "complement.report/1"
    assert list(doc)[-1] == "timings"
    assert set(doc["timings"]) >= {"load", "overlap", "hits", "oracle", "probe", "structure"}
    assert doc["sections"] == dict.fromkeys(
        ["overlap", "hits", "oracle", "probe", "structure"], "ok"
    )
    for name in doc["sections"]:
        assert doc[name]["schema"] == f"complement.{name}/1"
        assert "provenance" not in doc[name]
    prov = doc["provenance"]
    assert prov["n_items"] == 160 and len(prov["item_universe_sha256"]) == 64
    assert prov["split"]["kind"] == "temporal" and prov["split"]["cutoff"] is not None
    assert prov["inputs"]["semantic"]["shape"] == [160, 16]
    assert prov["inputs"]["interactions"]["shape"] == [80 * 24 + 1, None]  # lines with header
    assert len(prov["inputs"]["collaborative"]["sha256"]) == 64
    assert prov["seeds"]["seed"] == 3 and prov["retrieval"]["device"] in ("cpu", "cuda")
    assert "json" not in prov["config"]["values"]  # the output path is not provenance
    assert set(doc["probe"]["capacities"]) == {"linear", "mlp1"}
    assert doc["probe"]["shift"]["kind"] == "popularity"
    assert doc["probe"]["reference_shift"]["kind"] == "random"
    assert "Item-level neighbour agreement" in result.output
    counts = doc["figures"]["overlap_distribution"]["counts"]
    assert len(counts) == 11 and sum(counts) == 160  # headline k = 10: overlaps 0/10 .. 10/10


def test_sections_equal_the_single_commands(runner, data, tmp_path):
    doc = load(report(data))
    for name in ("overlap", "hits", "oracle", "structure"):
        single = tmp_path / f"{name}.json"
        _run(runner, name, "--config", data, "--json", single, "--quiet")
        expected = load(single)
        expected.pop("provenance")
        assert doc[name] == expected, name
    # the probe command fits one capacity; its split has no validation part (the report's has)
    single = tmp_path / "probe.json"
    _run(runner, "probe", "--config", data, "--capacity", "linear", "--shift", "popularity",
         "--max-epochs", "5", "--json", single, "--quiet")  # fmt: skip
    expected = load(single)
    for key in ("shift", "reference_shift", "rec", "direction", "n_items"):
        assert doc["probe"][key] == expected[key], key
    assert doc["probe"]["capacities"]["linear"] == expected["capacities"]["linear"]


def test_report_without_a_log_marks_sections_not_run(runner, tmp_path):
    config = write_dataset(tmp_path / "nolog", log=False)
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    result = _run(runner, "report", "--config", config, "--json", out, "--markdown", md)
    doc = load(out)
    assert doc["sections"]["overlap"] == "ok" and doc["sections"]["structure"] == "ok"
    for name in ("hits", "oracle", "probe"):
        assert doc[name]["status"] == "not run"
        assert "interaction log" in doc[name]["reason"]
    assert doc["provenance"]["split"] is None
    assert "not run: no interaction log" in result.output
    text = md.read_text()
    assert "> not run: no interaction log" in text and "| k | overlap |" in text
    # a random shift needs no log: the probe runs
    _run(runner, "report", "--config", config, "--shift", "random", "--json", out, "--quiet")
    assert load(out)["sections"]["probe"] == "ok"


def test_report_errors(runner, data, tmp_path):
    result = runner.invoke(
        app, ["report", "--config", str(data), "--html", str(tmp_path / "no" / "r.html")]
    )
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(app, ["report", "--config", str(data), "--k", "500", "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--k 500 is not smaller than the number of items" in lines[0]
    # one section refuses (no item is first seen after the cutoff): the others still run
    out = tmp_path / "r.json"
    _run(runner, "report", "--config", data, "--shift", "temporal", "--json", out, "--quiet")
    doc = load(out)
    assert doc["sections"]["probe"] == "not run" and doc["sections"]["hits"] == "ok"
    assert doc["sections"]["structure"] == "ok"  # ran beside the refusing probe
    assert "20" in doc["probe"]["reason"]


def test_demo_writes_the_page_in_the_working_directory(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("COMPLEMENT_FIXTURE", str(dataset("base").parent))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--quiet"])
    assert result.exit_code == 0, result.output
    page = tmp_path / "complement-demo.html"
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert page.as_uri() in result.output.replace("\n", "")
    assert "Item-level neighbour agreement" in result.output
