"""Shared test set-up: Rich pinned to a fixed width, small seeded data, a CLI runner."""

from __future__ import annotations

import os

os.environ["COLUMNS"] = "120"
os.environ["NO_COLOR"] = "1"
os.environ.setdefault("TERM", "dumb")

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "fixtures" / "movielens-100k"


@pytest.fixture
def one_torch_thread():
    """Tiny MLPs run fastest (and identically) on one thread, whatever else the CPU is doing:
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")`` in the modules that fit them."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ml_arrays() -> dict:
    """The MovieLens fixture's views, item ids and log, read once per test module."""
    import polars as pl

    return {
        "sem": np.load(FIXTURE / "sem.npy"),
        "cf": np.load(FIXTURE / "cf.npy"),
        "ids": np.load(FIXTURE / "item_ids.npy"),
        "log": pl.read_parquet(FIXTURE / "interactions.parquet"),
    }


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner, tmp_path, monkeypatch):
    """Run the CLI in a clean working directory; returns (result, parsed --json or None)."""
    from complement.cli.app import app

    monkeypatch.chdir(tmp_path)

    def _invoke(*args: str, json_out: bool = True):
        argv = [str(a) for a in args]
        path = tmp_path / "out.json"
        if json_out:
            argv += ["--json", str(path)]
        result = runner.invoke(app, argv)
        doc = json.loads(path.read_text()) if json_out and path.exists() else None
        if json_out and path.exists():
            path.unlink()
        return result, doc

    return _invoke


@pytest.fixture
def views_files(tmp_path):
    """Two small random views saved as .npy, with their arrays."""
    rng = np.random.default_rng(0)
    sem = rng.standard_normal((120, 16)).astype(np.float32)
    cf = rng.standard_normal((120, 8)).astype(np.float32)
    np.save(tmp_path / "sem.npy", sem)
    np.save(tmp_path / "cf.npy", cf)
    return tmp_path / "sem.npy", tmp_path / "cf.npy", sem, cf


def run_python(code: str, cwd: Path, timeout: float, env: dict[str, str] | None = None):
    """``python -c code`` in its own process; the finished process (text output captured)."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )
