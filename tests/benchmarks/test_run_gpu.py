"""benchmarks/run.py's GPU run: the CPU backend's lists beside the GPU's, and the GPU targets.

No GPU is needed: the ``cpu`` method is complement's CPU backend whatever the run's device, and
the targets and tables are computed from result entries.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"
TABLE = ROOT / "benchmarks" / "table.py"


@pytest.fixture(scope="module")
def run() -> Any:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(RUN), "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("workload", ["item", "hits"])
def test_cpu_method_gives_complements_lists(tmp_path: Path, workload: str):
    case = {"workload": workload, "n": 600, "q": 400, "d": 16, "k": 10, "dense_max_bytes": 0}
    lists = {}
    for method in ("complement", "cpu"):
        save = tmp_path / f"idx-{method}.npy"
        res = worker({**case, "method": method, "device": "cpu", "save": str(save)})
        assert res["seconds"] > 0
        lists[method] = np.load(save)
    assert lists["cpu"].shape == (400, 10)  # 400 users, or 400 sampled query items
    assert np.array_equal(lists["cpu"], lists["complement"])


def test_identical_counts_rows_in_order(run: Any, tmp_path: Path):
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, np.array([[1, 2, 3], [4, 5, 6]]))
    np.save(b, np.array([[1, 2, 3], [4, 6, 5]]))  # same set, another order in row 1
    assert run.identical(a, b) == 0.5
    assert run.agreement(a, b) == 1.0
    assert run.identical(a, tmp_path / "missing.npy") is None


def entry(workload: str, complement_s: float, bare_s: float, same: float | None) -> dict:
    methods: dict[str, Any] = {
        "complement": {"seconds": complement_s, "peak_over_inputs_mb": 10.0},
        "bare": {"seconds": bare_s, "peak_over_inputs_mb": 5.0},
    }
    if same is not None:
        methods["cpu"] = {
            "seconds": 9.0,
            "peak_over_inputs_mb": 20.0,
            "identical_lists_to_complement": same,
        }
    return {
        "workload": workload,
        "n": 50_000,
        "q": 50_000,
        "d": 384,
        "methods": methods,
        "ratio_to_bare": {m: r["seconds"] / bare_s for m, r in methods.items()},
        "cpu_ratio_to_bare": {},
    }


def test_gpu_targets_need_the_share_and_every_list(run: Any):
    results = [entry("item", 1.25, 1.0, 1.0)]
    t = run.targets(results, "cuda")["gpu_item_n50000_q50000_d384"]
    assert t["throughput_share_of_bare"] == 0.8 and t["same_lists_as_cpu"] == 1.0 and t["met"]
    assert not run.targets([entry("item", 1.25, 1.0, 0.999)], "cuda")[
        "gpu_item_n50000_q50000_d384"
    ]["met"]
    assert not run.targets([entry("hits", 2.0, 1.0, 1.0)], "cuda")["gpu_hits_n50000_q50000_d384"][
        "met"
    ]  # 50% of the bare product's throughput
    assert not run.targets([entry("item", 1.0, 1.0, None)], "cuda")["gpu_item_n50000_q50000_d384"][
        "met"
    ]  # no CPU lists to compare with
    assert not any(k.startswith("gpu_") for k in run.targets(results, "cpu"))


def test_table_renders_a_gpu_run(run: Any, tmp_path: Path):
    results = [entry("item", 1.25, 1.0, 1.0), entry("hits", 2.0, 1.0, 1.0)]
    doc = {
        "machine": {"cpu": "x", "cores": 16, "blas": "b"},
        "device": "cuda",
        "k": 50,
        "repeat": 2,
        "started": "2026-12-03T00:00:00",
        "cases": results,
        "targets": run.targets(results, "cuda"),
    }
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps(doc))
    out = subprocess.run([sys.executable, str(TABLE), str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    item = "| gpu_item_n50000_q50000_d384 | 80% of bare, same lists as the CPU 100% | ≥ 70% | yes |"
    assert item in lines
    assert any(line.startswith("| gpu_hits_n50000_q50000_d384 | 50% of bare") for line in lines)
    header = next(line for line in lines if line.startswith("| workload"))
    assert header.endswith("| CPU backend |")
