"""Progress bars appear on a terminal only."""

from __future__ import annotations

from complement.cli import common


def test_no_progress_bar_off_a_terminal():
    """Redirected (CI logs, ``2> file``), a Rich bar left its description and blank lines on
    stderr between the report's status lines."""
    assert not common.err.is_terminal  # pytest captures stderr
    bar = common._LazyProgress("oracle: ranking views and fusions", quiet=False)
    bar.t0 -= 5.0  # past the one-second delay
    bar(1, 4)
    assert bar.bar is None
    bar.close()


def test_a_terminal_gets_the_bar(monkeypatch):
    monkeypatch.setattr(common.err, "_force_terminal", True)
    bar = common._LazyProgress("oracle", quiet=False)
    bar.t0 -= 5.0
    bar(1, 4)
    try:
        assert bar.bar is not None
    finally:
        bar.close()
