"""The terminal layout at the widths of a pipe (80 columns) and of common terminals: no number,
interval, signed percentage, dotted path or verdict is ever split across lines, free text
wraps at spaces, nothing is dropped, and a cut (only of a unit wider than the console) shows."""

from __future__ import annotations

import re

import pytest
from reportdata import string_console
from rich.cells import cell_len

from complement.report.model import document_tables
from complement.report.model.table import make_table
from complement.report.rich import render_document, render_table

#: a unit a cell must never be broken inside: an interval ``[a, b]`` or a space-free word
UNIT = re.compile(r"\[[^\[\]]*\]|\S+")
KINDS = ["overlap", "hits", "oracle", "probe", "structure", "explain", "align", "gate", "report"]


def _table_text(table, width: int) -> str:
    console = string_console(width)
    render_table(table, console)
    return console.file.getvalue()


def _lines_fit(text: str, width: int) -> None:
    for line in text.splitlines():
        assert cell_len(line) <= width, line


def _on_one_line(unit: str, text: str) -> bool:
    return any(unit in line for line in text.splitlines())


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("kind", KINDS)
def test_no_figure_of_any_document_is_split(ml_docs, kind, width):
    """Every unit of every cell of the document's tables (what the JSON says, formatted) is
    whole on one line; nothing is cut at these widths; no line is wider than the console."""
    console = string_console(width)
    render_document(ml_docs[kind], console)
    text = console.file.getvalue()
    _lines_fit(text, width)
    assert "…" not in text
    for table in document_tables(ml_docs[kind]):
        for row in table.rows:
            for cell in row:
                for unit in UNIT.findall(cell):
                    assert _on_one_line(unit, text), (table.key, width, unit)


def test_probe_figures_and_intervals_at_80_columns(ml_docs):
    """The tester's cases: the probe's R² and the complementarity interval, whole."""
    console = string_console(80)
    render_document(ml_docs["report"], console)
    text = console.file.getvalue()
    probe = document_tables(ml_docs["report"]["probe"])[0]
    complementarity = next(
        t for t in document_tables(ml_docs["report"]["hits"]) if t.key.endswith("complementarity")
    )
    for figure in [*probe.rows[0][1:], *complementarity.column("95% CI")]:
        assert _on_one_line(figure, text), figure


PATHS = [
    "overlap.k.20.overlap",
    "hits.k.20.recall.collaborative",
    "oracle.k.20.fusion.score_interpolation.recall",
    "probe.capacities.linear.test.r2",
]


def _gate_like():
    rows = [
        [
            path,
            "drop ≤ 0.01",
            "0.1806 [0.169, 0.192]",
            "0.1488 [0.138, 0.159]",
            "-0.0318",
            "REGRESSION" if i % 2 else "pass",
            "interval: drop 0.0318 - margin 0.01561 = 0.01619 > tol 0.01",
        ]
        for i, path in enumerate(PATHS)
    ]
    headers = ["path", "bound", "baseline", "current", "delta", "verdict", "decided by"]
    return make_table("gate.checks", "Gate (default rules)", headers, rows, text=(0, 1, 5, 6))


@pytest.mark.parametrize("width", [60, 80, 100, 160, 250])
def test_gate_paths_verdicts_and_intervals_stay_whole(width):
    table = _gate_like()
    text = _table_text(table, width)
    _lines_fit(text, width)
    assert "…" not in text
    for row in table.rows:
        for cell in row:
            for unit in UNIT.findall(cell):
                assert _on_one_line(unit, text), (width, unit)
    assert not re.search(r"REGRESSI\s*$", text, flags=re.MULTILINE)


def test_a_table_too_wide_for_the_console_is_one_record_per_row():
    """At 80 columns a path (45), two intervals and a verdict cannot share a line: each row
    becomes ``header  value`` lines, a path on the same line as its header."""
    text = _table_text(_gate_like(), 80)
    for path in PATHS:
        assert re.search(rf"^path\s+{re.escape(path)}\s*$", text, flags=re.MULTILINE), path
    assert re.search(r"^verdict\s+REGRESSION\s*$", text, flags=re.MULTILINE)
    assert re.search(r"^baseline\s+0\.1806 \[0\.169, 0\.192\]\s*$", text, flags=re.MULTILINE)


def test_wide_console_keeps_each_row_on_one_line():
    table = _gate_like()
    text = _table_text(table, 250)
    for row in table.rows:
        pattern = r"\s+".join(re.escape(cell) for cell in row)
        assert re.search(pattern, text), row
    assert len(text.splitlines()) == 3 + len(table.rows)  # title, header, rule, rows


def test_free_text_wraps_at_spaces_never_inside_a_word():
    titles = [
        "Eye of Vichy, The (Oeil de Vichy, L')",
        "I, Worst of All (Yo, la peor de todas)",
        "interpolation α=0.0 †",
        "collaborative only",
    ]
    rows = [
        [str(i), title, "0.301", "[-0.040, -0.025]", "-265.8%"] for i, title in enumerate(titles)
    ]
    table = make_table("t", "Most shared items", ["id", "title", "x", "95% CI", "gain"], rows,
                       text=(0, 1))  # fmt: skip
    for width in (40, 50, 60):
        text = _table_text(table, width)
        _lines_fit(text, width)
        for title in titles:
            for word in title.split():
                assert _on_one_line(word, text), (width, word)
        for figure in ("[-0.040, -0.025]", "-265.8%", "0.301"):
            assert text.count(figure) == len(titles), (width, figure)


def test_a_value_and_its_interval_break_only_between_them():
    rows = [["a", "0.06216 [0.0588, 0.0658]", "0.120 +11.3%", "-0.0252 †"]]
    table = make_table("t", "T", ["name", "baseline", "union", "drop"], rows)
    for width in (30, 40, 60):
        text = _table_text(table, width)
        for unit in ("0.06216", "[0.0588, 0.0658]", "0.120", "+11.3%", "-0.0252 †"):
            assert _on_one_line(unit, text), (width, unit)


def test_a_unit_wider_than_the_console_is_cut_visibly():
    path = "oracle.k.20." + ".".join(f"segment{i}" for i in range(12)) + ".recall"
    table = make_table("t", "T", ["path", "value"], [[path, "0.5"], ["short", "0.25"]])
    text = _table_text(table, 40)
    _lines_fit(text, 40)
    assert "…" in text and path[:20] in text
    assert _on_one_line("0.25", text) and _on_one_line("short", text)


def test_a_title_path_is_never_folded_when_it_fits_thestring_console():
    title = "Noise ceiling (/work/main/complement/fixtures/movielens-100k/cf_seed1.npy)"
    table = make_table("t", title, ["figure", "S–C"], [["overlap@10", "0.043"]])
    text = _table_text(table, 80)
    assert "(/work/main/complement/fixtures/movielens-100k/cf_seed1.npy)" in text


@pytest.mark.parametrize("width", [30, 80])
def test_hostile_text_stays_literal_when_wrapped(width):
    hostile = "[bold]x[/bold] \x1b]8;;http://x\x1b\\ :smile: " + "word " * 12
    table = make_table("t", hostile, ["name " * 3, "n"], [[hostile, "1"], ["b", "2"]])
    console = string_console(width, color=True)
    render_table(table, console)
    text = re.sub(r"\x1b\[[0-9;]*m", "", console.file.getvalue())
    assert "\x1b" not in text
    assert "[bold]x[/bold]" in text and ":smile:" in text and "\\x1b]8;;http://x\\x1b\\" in text
