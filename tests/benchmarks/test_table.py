"""benchmarks/table.py renders a result file of benchmarks/run.py (the committed full run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "table.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def test_committed_result_renders_every_case_and_target():
    results = sorted(
        p
        for p in (ROOT / "benchmarks" / "results").glob("*.json")
        if json.loads(p.read_text()).get("schema") == "complement.benchmarks/1"
    )
    assert results, "a full benchmark run is committed in benchmarks/results/"
    doc = json.loads(results[-1].read_text())
    out = run(str(results[-1]))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    case_rows = [line for line in lines if "**" in line]  # the ratio column is bold
    assert len(case_rows) == len(doc["cases"])
    for key, target in doc["targets"].items():
        assert any(("yes" if target["met"] else "NO") in line for line in lines), key
    first = doc["cases"][0]
    ratio = first["ratio_to_bare"]["complement"]
    assert f"**{ratio:.2f}×**" in case_rows[0]


def test_not_a_result_file_is_one_line_and_exit_2(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    out = run(str(bad))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "not a benchmarks/run.py result" in out.stderr
