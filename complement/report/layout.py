"""Line breaks and column widths of terminal tables (drawn by :mod:`complement.report.rich`).

A cell breaks only at a space, and never inside a *unit*: a word (a number, a signed
percentage, a dotted path, a verdict) or a bracketed interval ``[a, b]``; a lone mark (``†``,
``≤``, ``/``) stays with its neighbour. Columns take their natural widths when they fit;
otherwise they narrow where that costs the fewest extra lines (free text first, then numbers),
never below their widest unit (a header's too), and the gaps between columns narrow from 3
spaces to 2 (or 1) where that saves lines or is needed. :func:`grid` returns None when a table
cannot fit at all. A unit wider than the whole console is cut with a visible ``…``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rich.cells import cell_len, chop_cells

__all__ = ["ELLIPSIS", "Grid", "grid", "min_width", "wrap"]

#: shown where a unit wider than the console had to be cut
ELLIPSIS = "…"
#: a word or a bracketed group (an interval ``[0.039, 0.047]``), with the spaces before it
_WORD = re.compile(r"(\s*)(\[[^\[\]]*\]|\S+)")


def _is_mark(word: str) -> bool:
    """A lone sign or mark (``†``, ``≤``, ``/``, ``–``): kept with the word beside it."""
    return cell_len(word) <= 2 and not any(ch.isalnum() for ch in word)


def _units(text: str) -> list[tuple[str, str]]:
    """The units a line may break between, each with the spaces before it.

    A unit is a run of non-space characters or a bracketed group ``[a, b]``; text touching
    a group without a space belongs to it; a lone mark joins the next unit (the previous one
    at the end), so ``drop ≤ 25%`` may break as ``drop`` / ``≤ 25%``, ``-0.025 †`` nowhere.
    """
    words: list[list[str]] = []
    for match in _WORD.finditer(text):
        space, word = match.group(1), match.group(2)
        if words and not space:
            words[-1][1] += word
        else:
            words.append([space, word])
    units: list[tuple[str, str]] = []
    mark: tuple[str, str] | None = None
    for space, word in words:
        if mark is not None:
            space, word = mark[0], mark[1] + space + word
            mark = None
        if _is_mark(word):
            mark = (space, word)
        else:
            units.append((space, word))
    if mark is not None:
        if units:
            units[-1] = (units[-1][0], units[-1][1] + mark[0] + mark[1])
        else:
            units.append(mark)
    return units


def _cut(word: str, width: int) -> str:
    """``word`` cut to ``width`` cells, the cut shown by an ellipsis."""
    if width <= 1:
        return ELLIPSIS
    return chop_cells(word, width - 1)[0] + ELLIPSIS


def wrap(text: str, width: int, *, fold: bool = False) -> list[str]:
    """``text`` as lines of at most ``width`` cells, broken only between units.

    Text that fits is returned as it is. A unit wider than ``width`` is folded into pieces
    when ``fold`` (a record's header), otherwise cut with an ellipsis.
    """
    width = max(width, 1)
    if cell_len(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for space, word in _units(text):
        if line and cell_len(line) + cell_len(space) + cell_len(word) <= width:
            line += space + word
            continue
        if line:
            lines.append(line)
        if cell_len(word) <= width:
            line = word
        elif fold:
            *full, line = [piece for piece in chop_cells(word, width) if piece]
            lines.extend(full)
        else:
            line = _cut(word, width)
    lines.append(line)
    return lines


def min_width(text: str) -> int:
    """The narrowest width at which ``text`` keeps every unit whole."""
    return max((cell_len(word) for _, word in _units(text)), default=1)


# --- the grid's column widths ----------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    #: the width of each column's text
    widths: list[int]
    #: the spaces before each column (none before the first)
    gaps: list[int]


class _Heights:
    """The lines each cell of a column takes at a width (row 0 is the header), memoised.

    Counts what :func:`wrap` would give, on the cells' unit widths measured once.
    """

    def __init__(self, header: str, cells: Sequence[str]) -> None:
        self._texts = [
            (cell_len(text), [(cell_len(space), cell_len(word)) for space, word in _units(text)])
            for text in (header, *cells)
        ]
        self._memo: dict[int, list[int]] = {}

    @staticmethod
    def _count(size: int, units: list[tuple[int, int]], width: int) -> int:
        if size <= width:
            return 1
        lines, line = 0, 0
        for space, word in units:
            if lines and line + space + word <= width:
                line += space + word
            else:
                lines, line = lines + 1, min(word, width)
        return max(lines, 1)

    def at(self, width: int) -> list[int]:
        if width not in self._memo:
            self._memo[width] = [self._count(size, units, width) for size, units in self._texts]
        return self._memo[width]


def _shrink(
    heights: list[_Heights], numeric: list[bool], widths: list[int], mins: list[int], room: int
) -> list[int]:
    """Narrow columns until they fit in ``room``, each step where it adds the fewest lines
    per column of space saved (ties: free text before numbers, then the wider column)."""
    widths = list(widths)
    excess = sum(widths) - room
    while excess > 0:
        current = [h.at(w) for h, w in zip(heights, widths, strict=True)]
        total = sum(max(row) for row in zip(*current, strict=True))
        best: tuple[Any, ...] | None = None
        for j, (h, w) in enumerate(zip(heights, widths, strict=True)):
            rest = current[:j] + current[j + 1 :]
            others = [max(row) for row in zip(*rest, strict=True)] if rest else [0] * len(h.at(w))
            lowest = max(mins[j], w - excess)
            for narrower in range(w - 1, lowest - 1, -1):
                heights_at = h.at(narrower)
                if narrower > lowest and h.at(narrower - 1) == heights_at:
                    continue  # a narrower width saves more for the same lines
                lines = sum(map(max, others, heights_at))
                saved = w - narrower
                key = (Fraction(lines - total, saved), numeric[j], -saved, -w, j, narrower)
                if best is None or key < best:
                    best = key
        if best is None:  # cannot happen: the minimum widths fit in room
            break
        j, narrower = best[-2], best[-1]
        excess -= widths[j] - narrower
        widths[j] = narrower
    return widths


def _clearances(columns: list[list[str]], numeric: list[bool], widths: list[int]) -> list[int]:
    """For each boundary between two columns, the fewest spaces their cells' alignment leaves
    there on any line (a short left-aligned line before it, a short right-aligned one after)."""
    wrapped = [[wrap(c, w) for c in cells] for cells, w in zip(columns, widths, strict=True)]
    clear = []
    for j in range(1, len(columns)):
        spaces = [
            (0 if numeric[j - 1] else widths[j - 1] - cell_len(a))
            + (widths[j] - cell_len(b) if numeric[j] else 0)
            for left, right in zip(wrapped[j - 1], wrapped[j], strict=True)
            for a, b in zip(left, right, strict=False)
        ]
        clear.append(min(spaces, default=0))
    return clear


def _height(heights: list[_Heights], widths: list[int]) -> int:
    """The lines a grid takes, its header's included."""
    per_column = [h.at(w) for h, w in zip(heights, widths, strict=True)]
    return sum(max(row) for row in zip(*per_column, strict=True))


def grid(headers: list[str], rows: list[list[str]], numeric: list[bool], width: int) -> Grid | None:
    """Column widths and gaps that show every unit whole in ``width``, or None.

    With gaps of 3 spaces (Rich's usual) or 2, whichever takes fewer lines (3 on a tie), the
    columns narrowed as :func:`_shrink` does; when neither fits, the columns at their minimum
    (headers one word a line) with gaps of 2, or of 1 where 2 do not fit.
    """
    n = len(headers)
    columns = [[row[j] for row in rows] for j in range(n)]
    texts = [(h, *cells) for h, cells in zip(headers, columns, strict=True)]
    natural = [max(1, *(cell_len(t) for t in column)) for column in texts]
    mins = [max(min_width(t) for t in column) for column in texts]
    heights = [_Heights(h, cells) for h, cells in zip(headers, columns, strict=True)]
    best: tuple[int, int, list[int]] | None = None
    for gap in (3, 2):
        room = width - gap * (n - 1)
        if sum(mins) > room:
            continue
        widths = natural if sum(natural) <= room else _shrink(heights, numeric, natural, mins, room)
        if best is None or _height(heights, widths) < best[0]:
            best = (_height(heights, widths), gap, widths)
    if best is not None:
        _, gap, widths = best
        gaps = [gap] * (n - 1)
    else:
        extra = width - sum(mins) - (n - 1)  # the space left with gaps of 1
        if extra < 0:
            return None
        clear = _clearances(columns, numeric, mins)  # 2 where alignment leaves the least space
        wide = sorted(range(n - 1), key=lambda b: (clear[b], b))[:extra]
        gaps = [2 if b in wide else 1 for b in range(n - 1)]
        widths = mins
    # each column no wider than its widest line; the space that saves widens gaps of 1
    widths = [
        max(cell_len(line) for text in column for line in wrap(text, w))
        for column, w in zip(texts, widths, strict=True)
    ]
    spare = width - sum(widths) - sum(gaps)
    for j, gap in enumerate(gaps):
        if gap == 1 and spare > 0:
            gaps[j], spare = 2, spare - 1
    return Grid(widths, [0, *gaps])
