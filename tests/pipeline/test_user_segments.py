"""User segments (``--segment-col activity`` or a column of ``--users``) need a log."""

from __future__ import annotations

import numpy as np
import pytest

from complement.config import resolve
from complement.errors import InputError
from complement.pipeline.context import load_segments


@pytest.mark.parametrize("command", ["compare", "report", "hits"])
def test_activity_segments_without_a_log_are_refused(command):
    """compare without a log took --segment-col activity and wrote 'not run' blocks, while a
    --users column was refused: both are user segments with no users to cut."""
    settings = resolve(command, {"segment_col": "activity"})
    with pytest.raises(InputError, match="user segments need an interaction log"):
        load_segments(settings, np.array(["1", "2"]), None)
    segments = load_segments(settings, np.array(["1", "2"]), np.array(["7", "8"]))
    assert segments is not None and segments.source == "activity"
