"""The table model: every document kind's tables built from real documents, the one number
formatter, the report's sections and key figures."""

from __future__ import annotations

import copy
import math

import pytest

from complement.headline import headline_k
from complement.report.model import (
    SECTION_ORDER,
    SECTION_TITLES,
    Table,
    document_tables,
    headline,
    kind_of,
    section_tables,
)
from complement.report.model.fmt import count, fmt, fmt_ci, param, pct, sig, signed
from complement.report.model.table import make_table
from complement.report.model.text import visible


def _by_key(tables: list[Table]) -> dict[str, Table]:
    keys = [t.key for t in tables]
    assert len(keys) == len(set(keys)), keys
    return {t.key: t for t in tables}


def _rows_at(table: Table, k: str) -> list[tuple[str, ...]]:
    """The rows of the group whose first cell is ``k`` (later rows of a group leave it blank)."""
    out, current = [], None
    for row in table.rows:
        current = row[0] or current
        if current == k:
            out.append(row)
    return out


# --- the formatter -------------------------------------------------------------------------


def test_one_convention_per_kind_of_figure():
    assert fmt(0.04262782) == "0.043" and fmt(0.0059488, 4) == "0.0059"
    assert fmt(None) == fmt(math.nan) == fmt("text") == fmt(True) == "–"
    assert fmt(-0.0001) == "0.000"  # never -0.000
    assert fmt_ci([0.0388, 0.0466]) == "[0.039, 0.047]" and fmt_ci(None) == "–"
    assert pct(-2.657837676962323) == "-265.8%" and pct(0.1131695) == "+11.3%"
    assert pct(-0.00001) == "+0.0%" and pct(None) == "–"
    assert signed(-0.0325) == "-0.033" and signed(0.0008) == "+0.001" and signed(-1e-9) == "+0.000"
    assert count(19633) == "19633" and count(3.0) == "3" and count(None) == "–"
    assert sig(0.062158145) == "0.06216" and param(889237269.0) == "889237269"


def test_table_checks_its_shape():
    with pytest.raises(ValueError):
        make_table("x", "X", ["a", "b"], [["1"]])
    t = make_table("x", "X", ["a", "b"], [["1", "2"]], notes=["n", None, ""], text=(0,))
    assert t.numeric == (False, True) and t.notes == ("n",) and t.column("b") == ["2"]
    assert t.with_notes("m", None).notes == ("n", "m")


def test_visible_escapes_control_characters():
    assert visible("a\x1b]8;;http://x\x1b\\b") == "a\\x1b]8;;http://x\\x1b\\b"
    assert visible("a\r\nb\tc\x9b\u202ed") == "a\\r\\nb\\tc\\x9b\\u202ed"
    assert visible("Amélie 中文 [/x]") == "Amélie 中文 [/x]"


def test_unknown_documents_are_refused():
    with pytest.raises(ValueError, match="schema"):
        document_tables({"schema": "something/1"})
    with pytest.raises(ValueError):
        section_tables("nope", {})
    assert kind_of({"schema": "complement.report/1"}) == "report"


# --- every kind from a real document -------------------------------------------------------


def test_overlap_tables(ml_docs):
    doc = ml_docs["overlap"]
    t = _by_key(document_tables(doc))
    # the fixture has a replicate of the collaborative model: the noise ceiling follows
    assert list(t) == ["overlap.k", "overlap.groups", "overlap.ceiling.collaborative"]
    assert t["overlap.k"].column("k") == ["10", "20", "50"]
    assert t["overlap.k"].column("overlap") == [
        fmt(doc["k"][k]["overlap"]) for k in ("10", "20", "50")
    ]
    assert any("linear CKA" in note for note in t["overlap.k"].notes)
    assert any("shared items" in note for note in t["overlap.k"].notes)
    assert t["overlap.groups"].headers[1].startswith("cold (n=")


def test_hits_tables_hold_every_k(ml_docs):
    doc = ml_docs["hits"]
    t = _by_key(document_tables(doc))
    assert list(t) == [
        "hits.accuracy",
        "hits.complementarity",
        "hits.user_classes",
        "hits.groups",
        "hits.ceiling.collaborative",
        "hits.diversity",
    ]
    for k in ("10", "20", "50"):
        acc = _rows_at(t["hits.accuracy"], k)
        assert [r[1] for r in acc] == ["recall", "NDCG", "hit rate"]
        assert acc[2][2] == fmt(doc["k"][k]["hit_rate"]["semantic"])
        classes = _rows_at(t["hits.user_classes"], k)
        assert [r[1] for r in classes] == ["both", "semantic only", "collaborative only", "no hit"]
        assert classes[0][2] == count(doc["k"][k]["user_classes"]["both"]["count"])
        groups = _rows_at(t["hits.groups"], k)
        assert [r[1] for r in groups] == ["cold", "mid", "hot"]
    assert t["hits.complementarity"].column("K") == ["10", "20", "50"]
    notes = " ".join(t["hits.groups"].notes)
    assert "split user-temporal" in notes and "scoring: semantic = " in notes


def test_oracle_tables_hold_groups_alpha_and_one_name_per_method(ml_docs):
    doc = ml_docs["oracle"]
    t = _by_key(document_tables(doc))
    assert list(t)[:3] == ["oracle.bounds", "oracle.fusion", "oracle.groups"]
    fusion = t["oracle.fusion"]
    methods = fusion.column("method")
    assert methods[0] == "concat fixed" and methods[1].startswith("interpolation α=")
    assert methods[2].startswith("gated") and methods[3] == "RRF"
    rrf = doc["k"]["10"]["fusion"]["rrf"]
    assert _rows_at(fusion, "10")[3][3] == pct(rrf["headroom"])
    assert _rows_at(fusion, "10")[3][4] == pct(rrf["headroom_select"])
    assert fusion.rows[0][3].endswith("%")
    assert "choosing among the two views' top-K lists" in " ".join(t["oracle.bounds"].notes)
    for k in ("10", "20", "50"):
        assert [r[1] for r in _rows_at(t["oracle.groups"], k)] == ["cold", "mid", "hot"]
    best = doc["k"]["20"]["best_single"]["view"]
    assert t["oracle.bounds"].rows[1][1 + ("semantic", "collaborative").index(best)].endswith("*")
    notes = " ".join(t["oracle.groups"].notes)
    assert "α chosen on the validation part" in notes and "RRF depth" in notes
    assert "split user-temporal" in notes


def test_probe_tables(ml_docs):
    doc = ml_docs["probe"]
    t = _by_key(document_tables(doc))
    assert list(t) == ["probe.capacities", "probe.rec"]
    cap = t["probe.capacities"]
    assert cap.title == "Alignment probes, semantic → collaborative"
    assert cap.column("capacity") == list(doc["capacities"])
    notes = " ".join(cap.notes)
    assert f"shift {doc['shift']['kind']}:" in notes and "fit: linear α" in notes
    assert t["probe.rec"].headers == ("capacity", "RecTrue", "RecMapped", "Rec Jaccard", "drop")
    no_rec = dict(doc, rec=None)
    only = document_tables(no_rec)
    assert [x.key for x in only] == ["probe.capacities"]
    assert "RecTrue / RecMapped: not computed" in only[0].notes[-1]


def test_structure_tables(ml_docs):
    doc = ml_docs["structure"]
    t = _by_key(document_tables(doc))
    assert list(t) == ["structure.summary", "structure.correlations", "structure.most_private",
                       "structure.most_shared", "structure.ceiling.collaborative"]  # fmt: skip
    assert t["structure.summary"].rows[0] == ("shared dimension", str(doc["shared_dim"]))
    corr = t["structure.correlations"]
    assert corr.column("shared").count("yes") == doc["shared_dim"]
    titles = t["structure.most_private"].column("title")
    assert titles == [i["title"] for i in doc["most_private"]]


def test_explain_tables(ml_docs):
    doc = ml_docs["explain"]
    (table,) = document_tables(doc)
    assert table.title == f"Nearest neighbours of {doc['item']['id']} {doc['item']['title']}"
    assert len(table.rows) == doc["k"]
    first = doc["semantic"][0]
    assert table.rows[0][1].endswith(f"{first['id']} {first['title']}")
    assert table.rows[0][2] == fmt(first["similarity"])
    assert "in both views' top" in table.notes[0]


def test_align_tables(ml_docs):
    doc = ml_docs["align"]
    t = _by_key(document_tables(doc))
    assert list(t) == [
        "align.training",
        "align.warm",
        "align.cold",
        "align.cold_all",
        "align.hits",
        "align.diversity",
    ]
    warm = t["align.warm"]
    systems = warm.column("system")
    assert {"RRF", "oracle union", "oracle budget", "oracle select"} <= set(
        systems
    )
    assert any(s.endswith("*") for s in systems[:2])
    assert any(s.startswith("concat fixed") for s in systems)
    assert any(s.startswith("gated") for s in systems)
    assert doc["methods"][0] in systems
    # a trained system above an oracle bound is marked and named in the caption, like a fusion
    marked = copy.deepcopy(doc)
    method = doc["methods"][0]
    marked["settings"]["cold_all"]["fusion"][method]["exceeds_oracle"] = ["union"]
    cold_all = _by_key(document_tables(marked))["align.cold_all"]
    assert f"{method} †" in cold_all.column("system")
    assert any(f"{method} above union" in note for note in cold_all.notes)
    notes = " ".join(t["align.hits"].notes)
    assert "cold items" in notes and "bootstrap resamples" in notes and "split " in notes
    skipped = copy.deepcopy(doc)
    skipped["settings"]["cold_all"] = {"n_candidates": 0, "skipped": "no cold <targets>"}
    cold_all = _by_key(document_tables(skipped))["align.cold_all"]
    assert cold_all.rows == () and cold_all.notes == ("not evaluated: no cold <targets>",)


def test_gate_tables(ml_docs):
    doc = ml_docs["gate"]
    (checks,) = document_tables(doc)
    assert checks.key == "gate.checks" and len(checks.rows) == doc["n_checks"]
    assert checks.notes == (f"gate: all {doc['n_checks']} checks pass",)
    assert set(checks.column("verdict")) == {"pass"}
    bad = copy.deepcopy(doc)
    bad["comparable"] = {"ok": False, "checks": [
        {"what": "n_items", "baseline": 10, "current": 11, "same": False}]}  # fmt: skip
    (comp,) = document_tables(bad)
    assert comp.key == "gate.comparability" and comp.rows[0][-1] == "DIFFERS"
    bad["allow_incomparable"] = True
    assert [x.key for x in document_tables(bad)] == ["gate.comparability", "gate.checks"]


def test_named_gate_rules_are_told_apart_in_the_table(ml_docs):
    """Two rules on one path: each check is labelled by its rule's name, with the path."""
    from complement.report.markdown import render_markdown

    doc = copy.deepcopy(ml_docs["gate"])
    first = doc["checks"][0]
    doc["checks"] = [{**first, "name": "floor"}, {**first, "name": "drop"}, {**first},
                     {**first, "name": None}]  # fmt: skip
    (checks,) = document_tables(doc)
    path = first["path"]
    assert first["name"] == "default" and checks.headers[0] == "rule (path)"
    assert [r[0] for r in checks.rows] == [
        f"floor ({path})", f"drop ({path})", f"default ({path})", path,
    ]  # fmt: skip
    text = render_markdown(doc)
    assert "floor (" in text and "drop (" in text
    (plain,) = document_tables(ml_docs["gate"])  # default rules only: the path, as before
    assert plain.headers[0] == "path" and plain.rows[0][0] == path


def test_report_is_its_sections_tables(ml_docs):
    report = ml_docs["report"]
    expected = [t for name in SECTION_ORDER for t in section_tables(name, report[name])]
    assert document_tables(report) == expected
    for name in ("overlap", "hits", "oracle", "probe", "structure"):
        assert section_tables(name, report[name]) == document_tables(ml_docs[name])
        assert f"({name})" not in SECTION_TITLES[name]
    skipped = dict(report, probe={"status": "not run", "reason": "no [log]"})
    tables = document_tables(skipped)
    (note_only,) = [t for t in tables if t.key == "probe.not_run"]
    assert note_only.rows == () and note_only.notes == ("not run: no [log]",)
    assert section_tables("probe", skipped["probe"]) == []


def test_headline_uses_the_headline_k(ml_docs):
    report = ml_docs["report"]
    k = headline_k(report["overlap"]["k"])
    cards = dict(headline(report))
    row = report["overlap"]["k"][str(k)]
    assert cards[f"overlap@{k}"].startswith(fmt(row["overlap"]))
    assert cards[f"oracle budget gain@{k}"] == pct(report["oracle"]["k"][str(k)]["gain"]["budget"])
    assert cards["shared dimension"] == str(report["structure"]["shared_dim"])
    assert headline({"schema": "complement.report/1"}) == []
