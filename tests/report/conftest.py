"""Real documents of every kind, written once per session by the CLI on the MovieLens fixture.

``complement report`` gives the overlap, hits, oracle, probe and structure documents (its
sections are those commands' documents without their provenance); ``explain``, ``align``
(directau, two epochs) and ``gate`` (the report against itself) give the other three.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
FIXTURE_CONFIG = REPO / "fixtures" / "movielens-100k" / "complement.toml"


def _run(folder: Path, name: str, *args: str) -> dict:
    from complement.cli.app import app

    path = folder / f"{name}.json"
    result = CliRunner().invoke(app, [*args, "--json", str(path)])
    assert path.exists(), f"{name}: exit {result.exit_code}\n{result.output}"
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def ml_docs(tmp_path_factory) -> dict[str, dict]:
    """{kind: document} for every document kind, plus ``report``."""
    folder = tmp_path_factory.mktemp("ml-docs")
    config = str(FIXTURE_CONFIG)
    report = _run(folder, "report", "report", "--config", config, "--quiet")
    docs = {name: report[name] for name in ("overlap", "hits", "oracle", "probe", "structure")}
    docs["report"] = report
    docs["explain"] = _run(folder, "explain", "explain", "1", "--config", config)
    docs["align"] = _run(
        folder, "align", "align", "--config", config, "--method", "directau", "--epochs", "2",
        "--grid", "none", "--n-boot", "200",
    )  # fmt: skip
    report_path = str(folder / "report.json")
    docs["gate"] = _run(folder, "gate", "gate", report_path, "--baseline", report_path)
    return docs
