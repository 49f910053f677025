"""The terminal renderer: every document kind, the report's rules, the same numbers as the
HTML and Markdown, and user text that is never markup nor an escape sequence."""

from __future__ import annotations

import copy
import re

import pytest
from reportdata import string_console

from complement.report.html import render_html
from complement.report.markdown import md_escape, render_markdown
from complement.report.model import SECTION_ORDER, document_tables
from complement.report.model.fmt import pct
from complement.report.model.table import make_table
from complement.report.rich import render_document, render_table

HOSTILE = [
    "[/x]",
    "[link=http://x]a[/link]",
    "\x1b]8;;http://x\x1b\\",
    "<img src=x onerror=alert(1)>",
    "a|b\\c\r\nd",
    "[bold red]loud[/] :smile:",
]


def _render(doc, **kwargs) -> str:
    console = string_console(**kwargs)
    render_document(doc, console)
    return console.file.getvalue()


@pytest.mark.parametrize(
    "kind", ["overlap", "hits", "oracle", "probe", "structure", "explain", "align", "gate"]
)
def test_every_kind_renders_its_tables(ml_docs, kind):
    text = " ".join(_render(ml_docs[kind], width=1000).split())
    for table in document_tables(ml_docs[kind]):
        assert table.title in text, table.title
        for note in table.notes:
            assert " ".join(note.split()) in text, note
        for row in table.rows:
            assert all(cell in text for cell in row), row


def test_report_has_a_rule_per_section_and_not_run_reasons(ml_docs):
    report = copy.deepcopy(ml_docs["report"])
    report["probe"] = {"status": "not run", "reason": "no interaction log [x]"}
    text = _render(report)
    rules = re.findall(r"^─+ (\S+) ─+$", text, flags=re.MULTILINE)
    assert rules == list(SECTION_ORDER)
    assert "not run: no interaction log [x]" in text
    assert "Alignment probes" not in text
    assert "Users by which view hits" in text and "Oracle bounds by popularity group" in text


def test_a_figure_reads_the_same_in_terminal_html_and_markdown(ml_docs):
    report = ml_docs["report"]
    rrf = report["oracle"]["k"]["10"]["fusion"]["rrf"]["headroom"]
    headroom = pct(rrf)
    assert headroom.endswith("%") and "." in headroom
    share = document_tables(report["hits"])[2].rows[-1][3]  # no-hit share at the last K
    outputs = (_render(report), render_html(report), render_markdown(report))
    for figure in (headroom, share, "concat fixed", "interpolation α="):
        for out in outputs:
            assert figure in out, (figure, out[:200])


def _hostile_explain(ml_docs) -> dict:
    doc = copy.deepcopy(ml_docs["explain"])
    doc["item"]["title"] = HOSTILE[0]
    for row, title in zip(doc["semantic"], HOSTILE, strict=False):
        row["title"] = title
    for row, title in zip(doc["collaborative"], reversed(HOSTILE), strict=False):
        row["id"] = title
    return doc


@pytest.mark.parametrize("color", [False, True])
def test_user_text_is_never_markup_nor_escape_sequences(ml_docs, color):
    text = _render(_hostile_explain(ml_docs), color=color)
    assert "[/x]" in text and "[link=http://x]a[/link]" in text
    assert "[bold red]loud[/] :smile:" in text  # no style, no emoji
    assert "\\x1b]8;;http://x\\x1b\\" in text  # shown, not sent
    assert "a|b\\c\\r\\nd" in text and "\r" not in text
    assert "<img src=x onerror=alert(1)>" in text
    # the only escape sequences are Rich's own styles (SGR: ESC [ ... m), never OSC links
    assert re.sub(r"\x1b\[[0-9;]*m", "", text).count("\x1b") == 0


def test_a_hostile_table_renders_literally():
    table = make_table(
        "x",
        HOSTILE[1],
        [HOSTILE[0], HOSTILE[2]],
        [[HOSTILE[3], HOSTILE[4]], ["1", "2"]],
        notes=[HOSTILE[5], "\x1b[2J\x9b31m"],
    )
    console = string_console(color=True)
    render_table(table, console)
    text = re.sub(r"\x1b\[[0-9;]*m", "", console.file.getvalue())
    assert "\x1b" not in text and "\x9b" not in text
    for shown in ("[link=http://x]a[/link]", "[/x]", "\\x1b]8;;http://x\\x1b\\",
                  "<img src=x onerror=alert(1)>", "a|b\\c\\r\\nd", "\\x1b[2J\\x9b31m"):  # fmt: skip
        assert shown in text, shown


def test_hostile_report_text_in_html_and_markdown(ml_docs):
    report = copy.deepcopy(ml_docs["report"])
    report["structure"]["most_private"][0]["title"] = HOSTILE[3]
    report["structure"]["most_private"][1]["title"] = HOSTILE[4]
    report["structure"]["most_private"][2]["id"] = "[x](javascript:alert(1))"
    report["probe"] = {"status": "not run", "reason": "<script>alert(1)</script> | \n"}
    page = render_html(report)
    assert "<img src=x" not in page and "<script>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | \\n" in page
    md = render_markdown(report)
    assert "<img" not in md and "<script>" not in md and "\r" not in md
    assert "| &lt;img src=x onerror=alert(1)&gt; |" in md
    assert "a\\|b\\\\c\\\\r\\\\nd" in md
    assert "[x\\](javascript:alert(1))" in md  # no link
    assert "> not run: &lt;script&gt;alert(1)&lt;/script&gt; \\| \\\\n" in md
    assert md_escape("x_y *z* `c` ~~s~~") == "x\\_y \\*z\\* \\`c\\` \\~\\~s\\~\\~"
