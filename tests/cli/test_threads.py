"""The JSON of ``hits`` and ``oracle`` is the same whatever the BLAS's thread count.

A float64 matrix product sums in an order that depends on the BLAS's threads; the bootstrap
intervals sum their resamples exactly (:func:`complement.core.stats.count_products`) and the
ranked lists settle near-ties canonically, so one thread and the default give the same bits.
The dataset has 600 users: with fewer than about 400, the BLAS multiplies the resample counts
on one thread whatever it is told, and the test could not tell the two runs apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reportdata
from threadpoolctl import threadpool_limits

from complement.core.stats import count_products

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
N_USERS = 600


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    patch = pytest.MonkeyPatch()
    patch.setattr(reportdata, "N_USERS", N_USERS)
    try:
        return reportdata.write_dataset(tmp_path_factory.mktemp("threads"))
    finally:
        patch.undo()


def without_timings(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: without_timings(v) for k, v in doc.items() if k != "timings"}
    if isinstance(doc, list):
        return [without_timings(v) for v in doc]
    return doc


def run(command: str, config: Path, out: Path, threads: int | None) -> str:
    """``complement <command>`` in a fresh process; its JSON text, timings left out."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    if threads is not None:
        env.update({k: str(threads) for k in THREAD_VARS})
    argv = [sys.executable, "-m", "complement", command, "--config", str(config), "--quiet"]
    proc = subprocess.run(
        [*argv, "--json", str(out)], capture_output=True, text=True, env=env, cwd=config.parent
    )
    assert proc.returncode == 0, proc.stderr
    return json.dumps(without_timings(json.loads(out.read_text())), indent=1)


@pytest.mark.parametrize("command", ["hits", "oracle"])
def test_one_thread_and_the_default_give_the_same_json(
    command: str, config: Path, tmp_path: Path
) -> None:
    one = run(command, config, tmp_path / "one.json", threads=1)
    default = run(command, config, tmp_path / "default.json", threads=None)
    assert json.loads(one)["n_users"] >= 400  # enough users for a threaded product
    assert one == default


def test_count_products_are_exact_sums_on_any_thread_count() -> None:
    """Resample counts times per-user values: within an ulp of the exact sums, on any thread
    count, bit for bit."""
    rng = np.random.default_rng(5)
    n, b = 700, 300  # large enough for a threaded float64 product
    draws = rng.integers(0, n, size=(b, n)) + np.arange(b)[:, None] * n
    counts = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)
    values = np.c_[
        rng.random((n, 8)),  # recalls, NDCG
        rng.integers(0, 20, (n, 4)) / rng.integers(1, 30, (n, 4)),  # ratios of counts
        rng.standard_normal((n, 4)) * 10.0 ** rng.integers(-20, 20, (n, 4)),  # wide, signed
        np.where(rng.random((n, 1)) < 0.01, np.nan, 1.0),  # a non-finite column
    ]
    with threadpool_limits(1):
        one = count_products(counts, values)
    many = count_products(counts, values)
    np.testing.assert_array_equal(one, many)
    for row in range(0, b, 37):
        for col in range(values.shape[1] - 1):
            exact = sum(
                Fraction(int(c)) * Fraction(float(v))
                for c, v in zip(counts[row], values[:, col], strict=True)
                if c
            )
            assert abs(one[row, col] - float(exact)) <= np.spacing(abs(float(exact)))
    assert np.isnan(one[:, -1]).any()


def test_the_fixture_report_is_the_same_on_one_thread(tmp_path: Path) -> None:
    """The whole report on the MovieLens fixture: every section, probe MLP included."""
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "movielens-100k"
    config = fixture / "complement.toml"
    one = run("report", config, tmp_path / "one.json", threads=1)
    default = run("report", config, tmp_path / "default.json", threads=None)
    assert json.loads(one)["sections"] == {
        name: "ok" for name in ("overlap", "hits", "oracle", "probe", "structure")
    }
    assert one == default
