#!/usr/bin/env python
"""``complement compare`` on five views of 50k items against the bare products of the same shapes.

    python benchmarks/compare.py                 # 50k items, d = 384, 384, 768, 64, 64
    python benchmarks/compare.py --items 10000 --repeat 1     # a quick check

The views are random float32 ``.npy`` files (Gaussian clusters, as in benchmarks/run.py) in a
temporary folder. ``compare`` searches each view once, at the largest k (10, 20, 50), and reads
every pair's overlap from those lists, so its time should stay close to the sum of one bare
product per view: the product ``X Xᵀ`` of each view's normalised rows (50k × 50k, chunked,
nothing else), the hardware limit of a search that scores every pair twice. complement's item
k-NN over every item computes each product once (symmetric tiles, about half those flops), so
the tiles on and above the diagonal alone (``bare_half``) are timed too: ``compare``'s ratio to
their sum is the overhead of everything but the products. Targets, measured in one run:

- time: ``compare``'s runner (``run_compare`` on the loaded views: the five searches, every
  pair's overlap and Jaccard, linear and debiased CKA, the bootstrap, the document) ≤ 1.3 ×
  the sum of the five bare products, as ``overlap``'s target times ``item_overlap``; the whole
  command's time (reading and joining the files, then the runner, then the provenance with the
  sha256 of every input and the JSON text) is reported beside it;
- memory: peak resident memory over the process's memory before loading ≤ the input files'
  bytes + 512 MB;
- each view searched exactly once (``item_knn`` calls are counted).

Each measurement is a fresh subprocess (``--worker``) whose peak RSS (``VmHWM``, reset through
``/proc/self/clear_refs`` after imports) is its own. ``compare`` is timed from loading the
files to the finished JSON document (load, join, searches, CKA, bootstrap, provenance with
sha256 of every input), the runner's part timed on its own; there is no interaction log (the
item-level part, which is what scales with the catalogue). Bare products and ``compare``
alternate ``--repeat`` times; the fastest of each counts. The result goes to
``benchmarks/results/compare-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCHEMA = "complement.benchmarks.compare/1"
DIMS = (384, 384, 768, 64, 64)
KS = (10, 20, 50)
TIME_TARGET = 1.3
MEMORY_TARGET_MB = 512.0
GEN_BLOCK = 65536


def clustered(n: int, d: int, seed: int) -> np.ndarray:
    """Rows around n/100 random centres (benchmarks/run.py's generator): no exact ties."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(8, n // 100), d), dtype=np.float32)
    x = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, GEN_BLOCK):
        e = min(n, s + GEN_BLOCK)
        block = rng.standard_normal((e - s, d), dtype=np.float32)
        block *= 0.7
        block += centres[rng.integers(0, centres.shape[0], e - s)]
        x[s:e] = block
    return x


def _status() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _clock() -> tuple[float, float]:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), use.ru_utime + use.ru_stime


# --- workers ---


def worker_bare(path: Path, half: bool = False) -> dict[str, Any]:
    """The product of the view's normalised rows with themselves, chunked, nothing else; with
    ``half``, only the tiles on and above the diagonal (4096-row tiles, as the symmetric
    self-search multiplies them): the floor of a search that computes each product once."""
    x = np.load(path)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    n = xn.shape[0]
    rows = max(256, (64 << 20) // (4 * n))
    tile = -(-n // -(-n // 4096))
    out = np.empty((tile, tile) if half else (min(rows, n), n), dtype=np.float32)
    peak_ok = _reset_peak()
    base = _status()["VmRSS"]
    wall, cpu = _clock()
    if half:
        for a in range(0, n, tile):
            for b in range(a, n, tile):
                ta, tb = xn[a : a + tile], xn[b : b + tile]
                np.matmul(ta, tb.T, out=out[: ta.shape[0], : tb.shape[0]])
    else:
        for s in range(0, n, rows):
            chunk = xn[s : s + rows]
            np.matmul(chunk, xn.T, out=out[: chunk.shape[0]])
    wall2, cpu2 = _clock()
    return {
        "seconds": wall2 - wall,
        "cpu_seconds": cpu2 - cpu,
        "peak_over_start_mb": round((_status()["VmHWM"] - base) / 2**20, 1),
        "peak_reset": peak_ok,
    }


def worker_compare(folder: Path, names: list[str]) -> dict[str, Any]:
    """``compare`` from the files to the JSON document, with each search counted and timed."""
    import complement.core.compare as core
    from complement.config import resolve
    from complement.io.jsonio import dumps
    from complement.pipeline.compare import compare_provenance, run_compare
    from complement.pipeline.many import load_many
    from complement.retrieval import get_backend

    calls: list[dict[str, Any]] = []
    real = core.item_knn

    def counted(matrix: Any, k: int, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        out = real(matrix, k, *args, **kwargs)
        calls.append({"shape": list(matrix.shape), "k": k, "seconds": time.perf_counter() - t0})
        return out

    core.item_knn = counted  # type: ignore[assignment]
    views = [f"{name}={folder / (name + '.npy')}" for name in names]
    settings = resolve(
        "compare",
        {"view": views, "k": ",".join(map(str, KS)), "device": "cpu", "quiet": True},
        cwd=folder,
    )
    backend = get_backend("cpu")
    peak_ok = _reset_peak()
    base = _status()["VmRSS"]
    wall, cpu = _clock()
    ctx = load_many(settings, backend)
    run_wall, run_cpu = _clock()
    section = run_compare(ctx)
    run_wall2, run_cpu2 = _clock()
    doc = compare_provenance(section, settings, backend).document()
    text = dumps(doc)
    wall2, cpu2 = _clock()
    peak = _status()["VmHWM"]
    inputs = sum((folder / (name + ".npy")).stat().st_size for name in names)
    pair = doc["pairs"][names[0]][names[1]]
    return {
        "seconds": run_wall2 - run_wall,
        "cpu_seconds": run_cpu2 - run_cpu,
        "command_seconds": wall2 - wall,
        "command_cpu_seconds": cpu2 - cpu,
        "load_seconds": ctx.load_seconds,
        "knn_calls": calls,
        "knn_seconds": sum(c["seconds"] for c in calls),
        "rss_start_mb": round(base / 2**20, 1),
        "peak_rss_mb": round(peak / 2**20, 1),
        "inputs_mb": round(inputs / 2**20, 1),
        "peak_over_inputs_mb": round((peak - base - inputs) / 2**20, 1),
        "peak_reset": peak_ok,
        "json_bytes": len(text),
        "example": {
            "pair": [names[0], names[1]],
            "overlap@50": pair["k"]["50"]["overlap"],
            "cka_linear": pair["cka_linear"],
            "cka_debiased": pair["cka_debiased"],
        },
    }


def run_worker(args: list[str], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{proc.stdout}\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


# --- main ---


def machine() -> dict[str, Any]:
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]  # type: ignore[index]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # numpy < 2 or a build without the dict form
        info["blas"] = None
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--dims", default=",".join(map(str, DIMS)))
    ap.add_argument("--repeat", type=int, default=2, help="alternating runs; the fastest counts")
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--out", type=Path, default=None, help="result file (default: results/)")
    ap.add_argument("--worker", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        kind, rest = args.worker[0], args.worker[1:]
        if kind in ("bare", "half"):
            result = worker_bare(Path(rest[0]), half=kind == "half")
        else:
            result = worker_compare(Path(rest[0]), rest[1].split(","))
        print(json.dumps(result))
        return 0

    dims = [int(d) for d in args.dims.split(",")]
    names = [f"v{j}_d{d}" for j, d in enumerate(dims)]
    started = dt.datetime.now(dt.UTC)
    load_start = list(os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="complement-compare-") as tmp:
        folder = Path(tmp)
        for j, (name, d) in enumerate(zip(names, dims, strict=True)):
            np.save(folder / f"{name}.npy", clustered(args.items, d, seed=10 + j))
        print(f"inputs: {len(dims)} views of {args.items} items in {folder}", file=sys.stderr)
        bare_runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        half_runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        compare_runs: list[dict[str, Any]] = []
        for r in range(args.repeat):
            for name in names:
                for kind, runs in (("bare", bare_runs), ("half", half_runs)):
                    runs[name].append(run_worker([kind, str(folder / f"{name}.npy")],
                                                 args.timeout))  # fmt: skip
                    print(f"[{r + 1}] {kind} {name}: {runs[name][-1]['seconds']:.1f} s",
                          file=sys.stderr)  # fmt: skip
            compare_runs.append(run_worker(["compare", str(folder), ",".join(names)],
                                           args.timeout))  # fmt: skip
            print(f"[{r + 1}] compare: {compare_runs[-1]['seconds']:.1f} s", file=sys.stderr)
    bare = {name: min(runs, key=lambda x: x["seconds"]) for name, runs in bare_runs.items()}
    bare_sum = sum(b["seconds"] for b in bare.values())
    half = {name: min(runs, key=lambda x: x["seconds"]) for name, runs in half_runs.items()}
    half_sum = sum(b["seconds"] for b in half.values())
    best = min(compare_runs, key=lambda x: x["seconds"])
    ratio = best["seconds"] / bare_sum
    command = min(compare_runs, key=lambda x: x["command_seconds"])["command_seconds"]
    # CPU seconds of every thread: less disturbed by other processes on a shared machine
    cpu_ratio = best["cpu_seconds"] / sum(b["cpu_seconds"] for b in bare.values())
    searched = [c["shape"] for c in best["knn_calls"]]
    once = sorted(map(tuple, searched)) == sorted((args.items, d) for d in dims)
    worst_memory = max(run["peak_over_inputs_mb"] for run in compare_runs)
    doc = {
        "schema": SCHEMA,
        "date": started.date().isoformat(),
        "machine": machine(),
        # other processes' load on the machine during the run (1-minute averages)
        "load_average": {"start": load_start, "end": list(os.getloadavg())},
        "case": {"items": args.items, "dims": dims, "ks": list(KS), "views": names,
                 "log": None, "repeat": args.repeat},  # fmt: skip
        "bare": {name: {**b, "seconds_runs": [x["seconds"] for x in bare_runs[name]]}
                 for name, b in bare.items()},  # fmt: skip
        "bare_sum_seconds": bare_sum,
        # the tiles on and above the diagonal only: what a search computing each product once
        # (complement's symmetric self-search) cannot go below
        "bare_half": {name: {**b, "seconds_runs": [x["seconds"] for x in half_runs[name]]}
                      for name, b in half.items()},  # fmt: skip
        "bare_half_sum_seconds": half_sum,
        "compare": {**best, "seconds_runs": [x["seconds"] for x in compare_runs]},
        "targets": {
            "time": {"ratio_to_bare_sum": ratio, "target": TIME_TARGET,
                     "met": ratio <= TIME_TARGET,
                     "command_ratio_to_bare_sum": command / bare_sum,
                     "ratio_to_bare_half_sum": best["seconds"] / half_sum,
                     "cpu_ratio_to_bare_sum": cpu_ratio},  # fmt: skip
            "memory": {"peak_over_inputs_mb": worst_memory, "target": MEMORY_TARGET_MB,
                       "met": worst_memory <= MEMORY_TARGET_MB},  # fmt: skip
            "each_view_searched_once": {"searches": searched, "met": once},
        },
    }
    out = args.out or HERE / "results" / f"compare-{started.date().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from complement.io.jsonio import write_json

    write_json(str(out), doc)
    print(json.dumps(doc["targets"], indent=1))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
