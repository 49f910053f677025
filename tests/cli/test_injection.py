"""Text from the user's files is shown literally, never interpreted: terminal, Markdown, HTML.

Item titles carry Rich markup (``[/x]``, ``[link=...]``, ``[rec]``), raw ANSI and OSC 8
escape sequences, HTML, table pipes, backslashes and line breaks. ``complement explain``,
``structure`` and ``report --markdown --html`` must succeed (exit 0) and print each title as
text: no escape sequence from a title reaches the terminal (checked on a console forced to
colour, where Rich itself emits its own colour codes), the Markdown escapes ``< > & |``,
backslashes and line breaks, and the HTML escapes everything. Errors about a CSV named in the
config never print the file's first line (it may hold a secret).

These are the "works" counterparts of tests/cli/test_errors.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from rich.console import Console

from complement.cli.app import app

N = 120

#: kind -> (raw title text, as the terminal shows it, as Markdown writes it, as HTML writes it)
HOSTILE: dict[str, tuple[str, str, str, str]] = {
    "rich-close-tag": ("[/x]", "[/x]", "[/x]", "[/x]"),
    "rich-link": (
        "[link=http://evil]x[/link]",
        "[link=http://evil]x[/link]",
        "[link=http://evil]x[/link]",
        "[link=http://evil]x[/link]",
    ),
    "rich-style-name": ("[rec]", "[rec]", "[rec]", "[rec]"),
    "ansi-colour": (
        "\x1b[31mRED\x1b[0m",
        "\\x1b[31mRED\\x1b[0m",
        "\\\\x1b[31mRED\\\\x1b[0m",
        "\\x1b[31mRED\\x1b[0m",
    ),
    "osc8-hyperlink": (
        "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\",
        "\\x1b]8;;http://evil\\x1b\\click\\x1b]8;;\\x1b\\",
        "\\\\x1b]8;;http://evil\\\\x1b\\\\click\\\\x1b]8;;\\\\x1b\\\\",
        "\\x1b]8;;http://evil\\x1b\\click\\x1b]8;;\\x1b\\",
    ),
    "html-img": (
        "<img src=x onerror=alert(1)>",
        "<img src=x onerror=alert(1)>",
        "&lt;img src=x onerror=alert(1)&gt;",
        "&lt;img src=x onerror=alert(1)&gt;",
    ),
    "pipes-backslash-crlf": (
        "a|b\\c\r\nd",
        "a|b\\c\\r\\nd",
        "a\\|b\\\\c\\\\r\\\\nd",
        "a|b\\c\\r\\nd",
    ),
    "ampersand": ("Tom & Jerry", "Tom & Jerry", "Tom &amp; Jerry", "Tom &amp; Jerry"),
    "markdown-link": (
        "[click](javascript:alert(1))",
        "[click](javascript:alert(1))",
        "[click\\](javascript:alert(1))",
        "[click](javascript:alert(1))",
    ),
}
KINDS = list(HOSTILE)


def title(i: int) -> str:
    return f"{HOSTILE[KINDS[i % len(KINDS)]][0]} id{i:03d}"


def shown(i: int, where: int) -> str:
    """Item i's title as output ``where`` (1 terminal, 2 Markdown, 3 HTML) must show it."""
    return f"{HOSTILE[KINDS[i % len(KINDS)]][where]} id{i:03d}"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    np.save(tmp_path / "sem.npy", rng.standard_normal((N, 8)).astype(np.float32))
    np.save(tmp_path / "cf.npy", rng.standard_normal((N, 4)).astype(np.float32))
    pl.DataFrame({"item_id": range(N), "title": [title(i) for i in range(N)]}).write_parquet(
        tmp_path / "items.parquet"
    )
    rows = "".join(f"{u},{(u * 7 + j) % N},{j * 100 + u}\n" for u in range(30) for j in range(8))
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n" + rows)
    return tmp_path


def consoles(monkeypatch: pytest.MonkeyPatch, *, colour: bool) -> None:
    """Wide consoles (no wrapping inside a title); ``colour``: a terminal forced to colour."""
    import complement.cli.commands.report as report_cmd
    import complement.cli.common as common

    def make(stderr: bool) -> Console:
        if colour:
            return Console(stderr=stderr, width=1000, force_terminal=True, color_system="truecolor")
        return Console(stderr=stderr, width=1000, color_system=None)

    for module in (common, report_cmd):
        monkeypatch.setattr(module, "out", make(False))
        monkeypatch.setattr(module, "err", make(True))


def run(runner, dataset: Path, *args: object):
    argv = [str(a) for a in args]
    result = runner.invoke(app, argv)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 0, result.output
    return result.output


_SGR = re.compile(r"\x1b\[[0-9;]*m")


def check_terminal(output: str, *, every: bool, colour: bool) -> None:
    """Every title that appears is shown literally; no escape sequence from a title."""
    if colour:
        assert _SGR.search(output), "the forced-colour console emitted no colour at all"
        assert "\x1b[31mRED" not in output  # the title's own colour code never passes
        output = _SGR.sub("", output)  # Rich's own colour codes
    assert "\x1b" not in output  # no other escape: no OSC 8 link, no cursor movement
    assert "\x9b" not in output and "\r" not in output  # no 8-bit CSI, no carriage return
    seen = 0
    for i in range(N):
        if f"id{i:03d}" in output:
            assert shown(i, 1) in output, (i, shown(i, 1))
            seen += 1
    assert seen == N if every else seen > 0, seen
    for _raw, term, _md, _html in HOSTILE.values():
        if every:
            assert term in output


@pytest.mark.parametrize("colour", [False, True], ids=["plain", "forced-colour"])
def test_explain_prints_titles_literally(runner, dataset, monkeypatch, colour):
    consoles(monkeypatch, colour=colour)
    d = dataset
    output = run(
        runner, d, "explain", "3", d / "sem.npy", d / "cf.npy", "--items", d / "items.parquet",
        "--neighbours", N - 1,
    )  # fmt: skip
    check_terminal(output, every=True, colour=colour)


def test_explain_finds_an_item_by_a_hostile_title(runner, dataset, monkeypatch):
    """A title with markup is also a query: '[/x] id000' finds item 0, shown literally."""
    consoles(monkeypatch, colour=False)
    d = dataset
    output = run(
        runner, d, "explain", "[/x] id000", d / "sem.npy", d / "cf.npy",
        "--items", d / "items.parquet", "--neighbours", 5,
    )  # fmt: skip
    assert "[/x] id000" in output.splitlines()[0] + output


@pytest.mark.parametrize("colour", [False, True], ids=["plain", "forced-colour"])
def test_structure_prints_titles_literally(runner, dataset, monkeypatch, colour):
    consoles(monkeypatch, colour=colour)
    d = dataset
    output = run(
        runner, d, "structure", d / "sem.npy", d / "cf.npy", "--items", d / "items.parquet"
    )
    check_terminal(output, every=False, colour=colour)


def test_report_markdown_and_html_escape_titles(runner, dataset, monkeypatch):
    consoles(monkeypatch, colour=True)
    d = dataset
    md, html = d / "r.md", d / "r.html"
    output = run(
        runner, d, "report", d / "sem.npy", d / "cf.npy", "--items", d / "items.parquet",
        "--interactions", d / "log.csv", "--k", "5", "--markdown", md, "--html", html,
    )  # fmt: skip
    assert "\x1b]" not in output and "\x1b[31mRED" not in output
    markdown, page = md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")

    # Markdown: < > & | and backslashes escaped, line breaks made visible: no title breaks a
    # table row, opens raw HTML or becomes a link
    assert "\x1b" not in markdown and "\r" not in markdown
    seen = [i for i in range(N) if f"id{i:03d}" in markdown]
    assert seen, "the report shows no title"
    for i in seen:
        assert shown(i, 2) in markdown, (i, shown(i, 2))
    assert "<img" not in markdown
    assert not re.search(r"(?<!\\)\]\(", markdown)  # no unescaped "](": no link, no image
    for line in markdown.splitlines():
        if line.startswith("|") and "id" in line:
            cells = re.split(r"(?<!\\)\|", line)
            assert len(cells) == len(re.split(r"(?<!\\)\|", markdown_header_of(markdown, line)))

    # HTML: everything escaped
    assert "\x1b" not in page and "\r" not in page
    seen = [i for i in range(N) if f"id{i:03d}" in page]
    assert seen
    for i in seen:
        assert shown(i, 3) in page, (i, shown(i, 3))
    assert "<img src=x" not in page and "onerror=alert(1)>" not in page
    assert all(tag.startswith("<img alt=") for tag in re.findall(r"<img[^>]{0,8}", page))
    assert "<script" not in page.lower() or page.lower().count("<script") == page.lower().count(
        "</script>"
    )


def markdown_header_of(markdown: str, row: str) -> str:
    """The header line of the Markdown table that holds ``row``."""
    lines = markdown.splitlines()
    at = lines.index(row)
    while at > 0 and lines[at - 1].startswith("|"):
        at -= 1
    return lines[at]


# --- a CSV named in the config: its first line is never printed ---

SECRET = "SECRET=abc"


def _config(tmp: Path, data: str) -> Path:
    rng = np.random.default_rng(0)
    np.save(tmp / "sem.npy", rng.standard_normal((40, 8)).astype(np.float32))
    np.save(tmp / "cf.npy", rng.standard_normal((40, 4)).astype(np.float32))
    (tmp / "complement.toml").write_text(
        '[data]\nsemantic = "sem.npy"\ncollaborative = "cf.npy"\n' + data
    )
    return tmp / "complement.toml"


@pytest.mark.parametrize(
    ("files", "data", "command", "says"),
    [
        (
            {"log.csv": f"{SECRET},x,y\n1,2,3\n4,5,6\n"},
            'interactions = "log.csv"\n',
            ["hits"],
            "does not look like a header row",
        ),
        (
            {"log.csv": f'"{SECRET},x,y\n1,2,3\n'},
            'interactions = "log.csv"\n',
            ["hits"],
            "1 fields not shown here",
        ),
        (
            {"log.csv": f"user_id,item_id,timestamp\n{SECRET},1001,1\nu2,1002,2\n"},
            'interactions = "log.csv"\n',
            ["hits"],
            "none of its 2 item ids has embeddings",
        ),
        (
            {"items.csv": f"{SECRET},x\n1,t\n"},
            'items = "items.csv"\n',
            ["explain", "3"],
            "does not look like a header row",
        ),
        (
            {"items.csv": f'"{SECRET},x\n1,t\n'},
            'items = "items.csv"\n',
            ["explain", "3"],
            "1 fields not shown here",
        ),
        (
            {"ids.txt": f"{SECRET}\n1\n"},
            'sem_ids = "ids.txt"\n',
            ["overlap"],
            "2 ids for 40 rows",
        ),
    ],
    ids=[
        "log-headerless",
        "log-unclosed-quote",
        "log-user-id",
        "items-headerless",
        "items-unclosed-quote",
        "ids-file",
    ],  # fmt: skip
)
def test_config_named_csv_first_line_is_never_printed(
    runner, tmp_path, monkeypatch, files, data, command, says
):
    monkeypatch.chdir(tmp_path)
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    config = _config(tmp_path, data)
    result = runner.invoke(app, [*command, "--config", str(config)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("complement: error: "), result.output
    assert says in lines[0], lines[0]
    assert "SECRET" not in result.output and "abc" not in result.output, lines[0]
