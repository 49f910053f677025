"""The HTML page and the Markdown: every section, embedded plots, nothing from the network."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

from reportdata import dataset, load, report

from complement.report.html import render_html
from complement.report.markdown import md_escape, render_markdown
from complement.report.model import SECTION_ORDER as SECTION_NAMES
from complement.report.model import SECTION_TITLES, document_tables


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.images.append(a["src"])
        for key in ("href", "src"):
            if key in a and tag not in ("img",):
                self.links.append(a[key])
        if tag not in ("meta", "img", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    assert page.stack == []  # every element closed, properly nested
    return page


def test_html_has_every_section_with_plots():
    doc = load(report(dataset("base")))
    html = render_html(doc)
    page = _parse(html)
    assert set(SECTION_NAMES) | {"provenance"} <= set(page.ids)
    # overlap 2, hits 1, oracle 1, probe 1, structure 1 figures, all inline PNG
    assert len(page.images) == 6
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(link.startswith("#") for link in page.links)  # no network, no files
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    text = " ".join(page.text)
    for title in ("Item-level neighbour agreement (semantic vs collaborative)",
                  "Recall@K of each view and the oracle bounds", "Practical fusion",
                  "Oracle bounds by popularity group", "Alignment probes, semantic → collaborative",
                  "Canonical correlations", "Users by which view hits"):  # fmt: skip
        assert title in text, title
    assert "not run" not in text
    assert render_html(doc) == html  # deterministic, figures included


def test_not_run_sections_and_markdown():
    doc = load(report(dataset("nolog", log=False)))
    page = _parse(render_html(doc))
    text = " ".join(page.text)
    for name in ("hits", "oracle", "probe"):
        assert name in page.ids
    assert text.count("not run: ") == 3 and text.count("not run: no interaction log") >= 2
    md = render_markdown(doc)
    assert md.count("> not run: ") == 3 and md.count("> not run: no interaction log") >= 2
    assert "### Item-level neighbour agreement (`overlap`)" in md
    assert "| k | overlap | 95% CI |" in md and "|---:|---:|" in md
    full = render_markdown(load(report(dataset("base"))))
    for heading in ("(`hits`)", "(`oracle`)", "(`probe`)", "(`structure`)"):
        assert heading in full
    assert "not run" not in full


def test_report_pages_hold_every_table_at_every_k(ml_docs):
    """HTML and Markdown show every table the terminal prints, cell for cell."""
    doc = ml_docs["report"]
    page = _parse(render_html(doc))
    html_text = "\n".join(page.text)
    md = render_markdown(doc)
    tables = document_tables(doc)
    keys = {t.key for t in tables}
    assert {"oracle.groups", "hits.user_classes", "hits.groups", "oracle.fusion"} <= keys
    for table in tables:
        assert table.title in html_text and md_escape(table.title) in md, table.title
        for note in table.notes:
            assert note in html_text and md_escape(note) in md, note
        for row in table.rows:
            assert "| " + " | ".join(md_escape(c) for c in row) + " |" in md, row
            assert all(cell in page.text for cell in row if cell), row
    by_key = {t.key: t for t in tables}
    for key in ("hits.user_classes", "hits.groups", "oracle.groups", "oracle.fusion"):
        assert {"10", "20", "50"} <= set(by_key[key].column("K")), key
    for name in SECTION_NAMES:  # the section's name once, after its title
        assert f"{SECTION_TITLES[name]} ({name})" in " ".join("".join(page.text).split())
        assert f"### {SECTION_TITLES[name]} (`{name}`)" in md
    assert "(hits) (hits)" not in " ".join(page.text) and "(hits) (hits)" not in md


def test_single_command_documents_render_too(ml_docs):
    for kind in ("hits", "explain", "align", "gate"):
        page = _parse(render_html(ml_docs[kind]))
        assert kind in page.ids
        for table in document_tables(ml_docs[kind]):
            assert table.title in page.text
        assert render_markdown(ml_docs[kind]).startswith(f"## complement {kind}")


def test_cli_writes_html_and_markdown(runner, tmp_path):
    from complement.cli.app import app

    config = dataset("base")
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    result = runner.invoke(
        app,
        [
            "report",
            "--config",
            str(config),
            "--html",
            str(html),
            "--markdown",
            str(md),
            "--quiet",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    assert f"wrote html: {html}" in result.output
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert md.read_text().startswith("## complement report")


def test_atomic_write_gives_normal_permissions(tmp_path):
    import os
    import stat

    from complement.io.jsonio import write_text_atomic

    umask = os.umask(0o022)
    try:
        target = tmp_path / "out.html"
        write_text_atomic(target, "a")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        target.chmod(0o640)
        write_text_atomic(target, "b")  # replacing keeps the existing mode
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
        assert target.read_text() == "b"
    finally:
        os.umask(umask)


def test_probe_figure_without_a_random_reference_shows_only_the_shift():
    from complement.report.figures import section_figures

    probe = load(report(dataset("base")))["probe"]
    both = section_figures("probe", probe, {})
    assert len(both) == 1 and "random split vs the" in both[0][1]
    alone = json.loads(json.dumps(probe))  # as when the reference cannot be formed
    alone["reference_shift"], alone["gap_reason"] = None, "too few items"
    for cap in alone["capacities"].values():
        cap["random_test"], cap["gap"] = None, None
    [(png, caption)] = section_figures("probe", alone, {})
    assert "random split" not in caption and f"the {probe['shift']['kind']} shift" in caption
    assert base64.b64decode(png.split(",", 1)[1])[:4] == b"\x89PNG"
