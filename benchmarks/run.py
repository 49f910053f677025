#!/usr/bin/env python
"""Benchmark complement's exact retrieval against the hardware limit, research code and faiss.

    python benchmarks/run.py --quick        # small smoke run, about a minute
    python benchmarks/run.py                # the full grid (about 15-25 minutes on 2 cores)
    python benchmarks/run.py --engine ray   # item k-NN and hits: Ray engine vs local engine

Every (workload, method) pair runs in its own subprocess, so its peak resident memory (VmHWM,
reset after the inputs are built) is its own. Workloads: item k-NN (the search inside
``complement overlap``, one view), the whole ``item_overlap`` call (two views), per-user top-K
with history masking (the search inside ``complement hits``), and an out-of-core catalogue
(memory-mapped .npy, sampled queries). Methods: ``complement`` (the library), ``bare`` (the
matrix product of the same shapes, chunked, nothing else: the hardware limit), ``dense``
(typical research code: the full similarity matrix and a full argsort; skipped where it would
not fit), ``faiss`` (IndexFlatIP: add + search; recorded as an error where faiss is not
installed), and with ``--device cuda`` also ``cpu`` (complement's CPU backend, for the
same-lists check of the GPU's). The results go to
``benchmarks/results/<machine>-<date>.json``; see benchmarks/README.md for the method.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SCHEMA = "complement.benchmarks/1"
K = 50
HITS_K = 50
GEN_BLOCK = 65536

# --- inputs (seeded, built block by block so building never doubles the memory) ---


def clustered(n: int, d: int, seed: int, out: np.ndarray | None = None) -> np.ndarray:
    """Rows around n/100 random centres: neighbourhoods like real embeddings, no exact ties."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(8, n // 100), d), dtype=np.float32)
    x = np.empty((n, d), dtype=np.float32) if out is None else out
    for s in range(0, n, GEN_BLOCK):
        e = min(n, s + GEN_BLOCK)
        block = rng.standard_normal((e - s, d), dtype=np.float32)
        block *= 0.7
        block += centres[rng.integers(0, centres.shape[0], e - s)]
        x[s:e] = block
    return x


def histories(n_users: int, n_items: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, indices): geometric lengths (mean 50, at most 1000), popularity-skewed."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(rng.geometric(1 / 50, n_users), 1000)
    users = np.repeat(np.arange(n_users, dtype=np.int64), lengths)
    weights = 1.0 / (np.arange(n_items) + 10.0) ** 0.8
    items = rng.choice(n_items, size=users.size, p=weights / weights.sum()).astype(np.int64)
    keys = np.unique(users * n_items + items)
    u, i = keys // n_items, keys % n_items
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n_users), out=indptr[1:])
    return indptr, i


def sample(n: int, q: int, seed: int) -> np.ndarray | None:
    if q >= n:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, q, replace=False)).astype(np.int64)


def catalogue(path: Path, n: int, d: int, seed: int) -> Path:
    """A float32 .npy catalogue on disk, written block by block (reused when already there)."""
    if path.exists():
        mm = np.load(path, mmap_mode="r")
        if mm.shape == (n, d) and mm.dtype == np.float32:
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, d))
    clustered(n, d, seed, out=mm)
    mm.flush()
    del mm
    os.replace(tmp, path)
    return path


# --- memory ---


def _status() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def clock() -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process: every thread, user + system)."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), use.ru_utime + use.ru_stime


def timing(t0: tuple[float, float]) -> dict[str, float]:
    wall, cpu = clock()
    return {"seconds": wall - t0[0], "cpu_seconds": cpu - t0[1]}


def warm_device(device: str) -> None:
    """On cuda: create the CUDA context and load cuBLAS before any clock starts. A fresh
    process's first GPU call takes a second or more, which neither complement's figure nor the
    bare product's should hold (each method runs in its own process)."""
    if device != "cuda":
        return
    import torch

    a = torch.ones((256, 256), device="cuda")
    (a @ a).sum().item()
    torch.cuda.synchronize()


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# --- methods (run inside a worker) ---


def bare_product(q: np.ndarray, base: np.ndarray, device: str) -> None:
    """The product of the same shapes and nothing else, chunked so the output fits."""
    n = base.shape[0]
    if device == "cuda":
        import torch

        b = torch.as_tensor(np.ascontiguousarray(base), device="cuda")
        rows = max(256, (512 << 20) // (4 * n))
        for s in range(0, q.shape[0], rows):
            qc = torch.as_tensor(q[s : s + rows], device="cuda")
            _ = qc @ b.T
        torch.cuda.synchronize()
        return
    rows = max(256, (64 << 20) // (4 * n))
    out = np.empty((min(rows, q.shape[0]), n), dtype=np.float32)
    for s in range(0, q.shape[0], rows):
        qc = q[s : s + rows]
        np.matmul(qc, base.T, out=out[: qc.shape[0]])


def bare_streamed(q: np.ndarray, base: np.ndarray) -> None:
    """The bare product against a memory-mapped base, read block by block like complement."""
    from complement.retrieval.blocks import release

    n = base.shape[0]
    rows_b = 65536
    out = np.empty((q.shape[0], rows_b), dtype=np.float32)
    for b0 in range(0, n, rows_b):
        raw = base[b0 : b0 + rows_b]
        np.matmul(q, np.asarray(raw).T, out=out[:, : raw.shape[0]])
        release(raw)


def faiss_search(base: np.ndarray, queries: np.ndarray, k: int, device: str):
    import faiss

    index = faiss.IndexFlatIP(base.shape[1])
    if device == "cuda" and hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus():
        index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
    index.add(base)
    return index.search(queries, k)


def drop_excluded(found: np.ndarray, banned: np.ndarray, k: int) -> np.ndarray:
    """First k entries per row that are not banned (``banned``: same shape, True = drop)."""
    order = np.argsort(banned, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(found, order, axis=1)


def ray_engine(spec: dict[str, Any]) -> tuple[Any, float]:
    """The Ray engine over the local backend, joined and warmed up before the clock.

    Joins ``--ray-address`` (else ``RAY_ADDRESS``, else a local instance on this machine's
    cores) and runs one tiny call, so the worker processes exist and have imported complement,
    as on a running cluster; returns (backend, seconds of that set-up).
    """
    from complement.retrieval.ray import ray_backend

    t0 = time.perf_counter()
    backend = ray_backend(
        spec["device"], address=spec.get("ray_address"), shards=spec.get("shards")
    )
    rng = np.random.default_rng(0)
    warm = rng.standard_normal((256, 8), dtype=np.float32)
    backend.topk(warm[:64], warm, 5)
    if spec["device"] == "cpu":  # the symmetric self-search's tile tasks too (item k-NN)
        from complement.retrieval import symmetric

        tiles = rng.standard_normal((2 * symmetric.MIN_ROWS, 8), dtype=np.float32)
        backend.self_topk(tiles, 5)
    backend.record.calls.clear()
    return backend, time.perf_counter() - t0


def engine_record(backend: Any) -> dict[str, Any]:
    """The Ray engine's provenance of the timed call, with each shard's throughput."""
    info = backend.to_dict()["ray"]
    call = info["calls"][-1]
    n, d = call["base_rows"], call["dim"]
    # scores each shard computed: its query rows x the catalogue, or (item k-NN over every
    # item, symmetric tiles) the cells of its tiles, each product once
    cells = call.get("shard_cells") or [r * n for r in call["shard_rows"]]
    pairs = [c / s for c, s in zip(cells, call["shard_seconds"], strict=True)]
    per_cpu = [c / s for c, s in zip(cells, call["shard_cpu_seconds"], strict=True)]
    return {
        "address": info["address"],
        "nodes": info["nodes"],
        "cpus": info["cpus"],
        "gpus": info["gpus"],
        "workers": call["workers"],
        "shards": call["shards"],
        "cpus_per_shard": call["cpus_per_shard"],
        "base_from": call["base_from"],
        "call_seconds": call["seconds"],
        "search": call.get("search", "query rows"),
        "shard_rows": call.get("shard_rows"),
        "shard_tiles": call.get("shard_tiles"),
        "shard_cells": cells,
        "shard_seconds": call["shard_seconds"],
        "shard_cpu_seconds": call["shard_cpu_seconds"],
        # scores (query row x catalogue row) per second of one shard, and its product rate;
        # per CPU second of the shard's worker process (less disturbed by other load)
        "shard_pairs_per_second": [round(p) for p in pairs],
        "shard_pairs_per_cpu_second": [round(p) for p in per_cpu],
        "shard_gflops": [round(2 * p * d / 1e9, 2) for p in pairs],
    }


def device_of(spec: dict[str, Any]) -> str:
    """The device complement searches on: the run's, or the CPU for the ``cpu`` method."""
    return "cpu" if spec["method"] == "cpu" else str(spec["device"])


def run_item(spec: dict[str, Any]) -> dict[str, Any]:
    n, d, q, k, method = spec["n"], spec["d"], spec["q"], spec["k"], spec["method"]
    x = clustered(n, d, seed=1)
    qi = sample(n, q, seed=2)
    rows = np.arange(n, dtype=np.int64) if qi is None else qi
    result: dict[str, Any] = {}
    if method == "dense":
        need = dense_bytes(rows.size, n, d)
        if need > spec["dense_max_bytes"]:
            return {"skipped": f"would need {need / 1e9:.1f} GB"}
    if method == "bare":  # the hardware limit: the product only, inputs prepared untimed
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        xq = xn[rows] if qi is not None else xn
    if method == "ray":  # --engine ray: joined and warmed up before the clock
        engine, result["engine_setup_seconds"] = ray_engine(spec)
    peak_ok = reset_peak()
    base = _status()["VmRSS"]
    t0 = clock()
    if method in ("complement", "ray", "cpu"):
        from complement.retrieval import get_backend, item_knn

        backend = engine if method == "ray" else get_backend(device_of(spec))
        idx = item_knn(x, k, backend, query_index=qi)
    elif method == "bare":
        bare_product(xq, xn, spec["device"])
        idx = None
    elif method == "dense":
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        sims = xn[rows] @ xn.T
        sims[np.arange(rows.size), rows] = -np.inf
        idx = np.argsort(-sims, axis=1)[:, :k]
        del sims
    elif method == "faiss":
        import faiss

        xn = x.copy()
        faiss.normalize_L2(xn)
        _, found = faiss_search(xn, xn[rows], k + 1, spec["device"])
        idx = drop_excluded(found, found == rows[:, None], k)
    else:
        raise SystemExit(f"unknown method {method}")
    result.update(timing(t0))
    result.update(memory(base, peak_ok))
    if method == "ray":
        result["ray"] = engine_record(engine)
    save(spec, idx)
    return result


def run_overlap(spec: dict[str, Any]) -> dict[str, Any]:
    from complement.core.overlap import item_overlap
    from complement.retrieval import get_backend

    n, d = spec["n"], spec["d"]
    sem = clustered(n, d, seed=1)
    cf = clustered(n, d, seed=3)
    peak_ok = reset_peak()
    base = _status()["VmRSS"]
    t0 = clock()
    res = item_overlap(sem, cf, (10, 20, 50), get_backend(spec["device"]))
    out: dict[str, Any] = timing(t0)
    out["overlap@50"] = res.per_k[50].overlap
    out.update(memory(base, peak_ok))
    return out


def run_hits(spec: dict[str, Any]) -> dict[str, Any]:
    n_users, n_items, d, k, method = spec["q"], spec["n"], spec["d"], spec["k"], spec["method"]
    items = clustered(n_items, d, seed=1)
    users = clustered(n_users, d, seed=4)
    indptr, indices = histories(n_users, n_items, seed=5)
    if method == "dense":
        need = dense_bytes(n_users, n_items, d)
        if need > spec["dense_max_bytes"]:
            return {"skipped": f"would need {need / 1e9:.1f} GB"}
    extra: dict[str, Any] = {}
    if method == "ray":  # --engine ray: joined and warmed up before the clock
        engine, extra["engine_setup_seconds"] = ray_engine(spec)
    peak_ok = reset_peak()
    base = _status()["VmRSS"]
    t0 = clock()
    if method in ("complement", "ray", "cpu"):
        from complement.retrieval import get_backend, user_topk

        backend = engine if method == "ray" else get_backend(device_of(spec))
        idx, _ = user_topk(users, items, k, backend, history=(indptr, indices))
    elif method == "bare":
        bare_product(users, items, spec["device"])
        idx = None
    elif method == "dense":
        scores = users @ items.T
        rows = np.repeat(np.arange(n_users), np.diff(indptr))
        scores[rows, indices] = -np.inf
        idx = np.argsort(-scores, axis=1)[:, :k]
        del scores
    elif method == "faiss":  # search past the longest history, then drop history items
        depth = min(n_items, k + int(np.diff(indptr).max()))
        _, found = faiss_search(items, users, depth, spec["device"])
        keys = np.arange(n_users, dtype=np.int64)[:, None] * n_items + found
        seen = np.repeat(np.arange(n_users, dtype=np.int64), np.diff(indptr)) * n_items + indices
        idx = drop_excluded(found, np.isin(keys, seen), k)
    else:
        raise SystemExit(f"unknown method {method}")
    result: dict[str, Any] = timing(t0)
    result.update(memory(base, peak_ok))
    result.update(extra)
    if method == "ray":
        result["ray"] = engine_record(engine)
    save(spec, idx)
    return result


def run_ooc(spec: dict[str, Any]) -> dict[str, Any]:
    n, d, q, k, method = spec["n"], spec["d"], spec["q"], spec["k"], spec["method"]
    path = Path(spec["path"])
    mm = np.load(path, mmap_mode="r")  # what complement.io does for .npy above MMAP_BYTES
    qi = sample(n, q, seed=2)
    assert qi is not None
    if method == "dense":
        need = dense_bytes(q, n, d) + n * d * 4  # research code loads the whole catalogue
        if need > spec["dense_max_bytes"]:
            return {"skipped": f"would need {need / 1e9:.1f} GB"}
    peak_ok = reset_peak()
    base = _status()["VmRSS"]
    t0 = clock()
    if method in ("complement", "cpu"):
        from complement.retrieval import get_backend, item_knn

        idx = item_knn(mm, k, get_backend(device_of(spec)), query_index=qi)
    elif method == "bare":
        bare_streamed(np.asarray(mm[qi]), mm)
        idx = None
    elif method == "dense":
        xn = np.array(mm)
        xn /= np.linalg.norm(xn, axis=1, keepdims=True)
        sims = xn[qi] @ xn.T
        sims[np.arange(q), qi] = -np.inf
        idx = np.argsort(-sims, axis=1)[:, :k]
        del sims
    elif method == "faiss":
        import faiss

        xn = np.array(mm)  # faiss holds the whole catalogue in memory
        faiss.normalize_L2(xn)
        _, found = faiss_search(xn, xn[qi], k + 1, spec["device"])
        idx = drop_excluded(found, found == qi[:, None], k)
    else:
        raise SystemExit(f"unknown method {method}")
    result: dict[str, Any] = timing(t0)
    result.update(memory(base, peak_ok))
    result["catalogue_mb"] = round(path.stat().st_size / 2**20, 1)
    save(spec, idx)
    return result


def dense_bytes(q: int, n: int, d: int) -> int:
    """Scores, their negation and int64 argsort output, plus a normalised copy of the inputs."""
    return q * n * (4 + 4 + 8) + (q + n) * d * 4


def memory(rss_inputs: int, peak_ok: bool) -> dict[str, Any]:
    s = _status()
    return {
        "rss_inputs_mb": round(rss_inputs / 2**20, 1),
        "peak_rss_mb": round(s["VmHWM"] / 2**20, 1),
        "peak_over_inputs_mb": round((s["VmHWM"] - rss_inputs) / 2**20, 1),
        "peak_reset": peak_ok,
    }


def save(spec: dict[str, Any], idx: np.ndarray | None) -> None:
    if idx is not None and spec.get("save"):
        np.save(spec["save"], np.asarray(idx, dtype=np.int64))


WORKLOADS = {"item": run_item, "overlap": run_overlap, "hits": run_hits, "ooc": run_ooc}


# --- driver ---


def grid(quick: bool) -> list[dict[str, Any]]:
    """Cases: (workload, n base rows, q queries, d). 200k items use 10k sampled queries."""
    cases: list[dict[str, Any]] = []
    if quick:
        for n in (2000, 5000):
            for d in (64, 384):
                cases.append({"workload": "item", "n": n, "q": n, "d": d, "k": K})
        cases.append({"workload": "overlap", "n": 5000, "q": 5000, "d": 384, "k": K})
        cases.append({"workload": "hits", "n": 5000, "q": 5000, "d": 64, "k": HITS_K})
        cases.append({"workload": "ooc", "n": 100_000, "q": 200, "d": 64, "k": K})
        return cases
    for n in (10_000, 50_000, 200_000):
        for d in (64, 384, 1024):
            q = n if n <= 50_000 else 10_000  # 200k x 200k would not fit the time budget
            cases.append({"workload": "item", "n": n, "q": q, "d": d, "k": K})
    cases.append({"workload": "overlap", "n": 50_000, "q": 50_000, "d": 384, "k": K})
    for d in (64, 384):
        cases.append({"workload": "hits", "n": 50_000, "q": 50_000, "d": d, "k": HITS_K})
    cases.append({"workload": "ooc", "n": 1_000_000, "q": 1000, "d": 384, "k": K})
    return cases


def machine() -> dict[str, Any]:
    import torch

    try:
        import faiss

        faiss_version: str | None = faiss.__version__
    except ImportError:  # a GPU machine may have torch but no faiss: its method records an error
        faiss_version = None

    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem_gb = round(mem_kb / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    info: dict[str, Any] = {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "memory_gb": mem_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss": faiss_version,
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]  # type: ignore[index]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # numpy < 2 or a build without the dict form
        info["blas"] = None
    return info


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "machine"


def run_case(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"skipped": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail)}
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the least wall time (its memory figures too), with every run's times."""
    timed = [r for r in runs if "seconds" in r]
    if not timed:
        return runs[0]
    out = dict(min(timed, key=lambda r: r["seconds"]))
    if len(timed) > 1:
        out["seconds_runs"] = [round(r["seconds"], 3) for r in timed]
        out["cpu_seconds"] = min(r["cpu_seconds"] for r in timed)
        out["peak_over_inputs_mb"] = max(r["peak_over_inputs_mb"] for r in timed)
    return out


def ratios(methods: dict[str, Any], bare: dict[str, Any], key: str) -> dict[str, float]:
    if not bare.get(key):
        return {}
    return {m: round(r[key] / bare[key], 3) for m, r in methods.items() if key in r}


def agreement(a: Path, b: Path) -> float | None:
    """Fraction of query rows whose neighbour sets are identical."""
    if not (a.exists() and b.exists()):
        return None
    x, y = np.sort(np.load(a), axis=1), np.sort(np.load(b), axis=1)
    if x.shape != y.shape:
        return None
    return float(np.mean(np.all(x == y, axis=1)))


def identical(a: Path, b: Path) -> float | None:
    """Fraction of query rows whose neighbour lists are identical, order included."""
    if not (a.exists() and b.exists()):
        return None
    x, y = np.load(a), np.load(b)
    if x.shape != y.shape:
        return None
    return float(np.mean(np.all(x == y, axis=1)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small smoke grid (about a minute)")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the JSON (default: results/, results/ray/ with --engine ray)",
    )
    ap.add_argument("--only", default="", help="comma-separated workloads: item,overlap,hits,ooc")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="complement device")
    ap.add_argument(
        "--engine",
        default="local",
        choices=["local", "ray"],
        help="ray: item k-NN and hits with the Ray engine against the local engine, written "
        "to results/ray/ (needs complement[ray])",
    )
    ap.add_argument(
        "--ray-address",
        default=None,
        help="with --engine ray: the cluster (default: $RAY_ADDRESS, else a local instance)",
    )
    ap.add_argument(
        "--shards",
        type=int,
        default=None,
        help="with --engine ray: shards per call (default: CPUs)",
    )
    ap.add_argument(
        "--scratch",
        type=Path,
        default=Path("/tmp/complement-bench"),
        help="folder for the generated out-of-core catalogue and result arrays",
    )
    ap.add_argument("--keep-scratch", action="store_true", help="keep the generated catalogue")
    ap.add_argument(
        "--dense-max-gb",
        type=float,
        default=6.0,
        help="run the dense approach only where it needs less memory than this",
    )
    ap.add_argument("--timeout", type=float, default=1500.0, help="seconds per case and method")
    ap.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of complement and bare per case, alternating; the fastest counts "
        "(default 2, 1 with --quick)",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        spec = json.loads(args.worker)
        # every method imports the library before its clock starts (the bare product too),
        # so no timing includes the import and every peak is measured over the same baseline
        import complement.core.overlap
        import complement.retrieval  # noqa: F401

        if spec["method"] != "ray":  # Ray's tasks warm up in ray_engine
            warm_device(spec["device"])
        print(json.dumps(WORKLOADS[spec["workload"]](spec)))
        return 0

    from complement.io.jsonio import document, write_json

    if args.repeat is None:
        args.repeat = 1 if args.quick else 2

    only = {w for w in args.only.split(",") if w}
    if args.engine == "ray":
        return main_engine(args, only)
    args.out = args.out or HERE / "results"
    cases = [c for c in grid(args.quick) if not only or c["workload"] in only]
    args.out.mkdir(parents=True, exist_ok=True)
    args.scratch.mkdir(parents=True, exist_ok=True)
    info = machine()
    started = dt.datetime.now()
    load_start = os.getloadavg()
    results: list[dict[str, Any]] = []
    bare_times: dict[tuple[int, int, int], dict[str, Any]] = {}
    generated: list[Path] = []
    for case in cases:
        methods = (
            ["complement"]
            if case["workload"] == "overlap"
            else [
                "complement",
                "bare",
                "dense",
                "faiss",
                *(["cpu"] if args.device == "cuda" else []),
            ]
        )
        entry: dict[str, Any] = dict(case)
        entry["methods"] = {}
        if case["workload"] == "ooc":
            path = args.scratch / f"catalogue-{case['n']}x{case['d']}.npy"
            fresh = not path.exists()
            t0 = time.perf_counter()
            catalogue(path, case["n"], case["d"], seed=1)
            if fresh:
                generated.append(path)
            entry["catalogue_write_seconds"] = round(time.perf_counter() - t0, 1)
        timed = ["complement"] if case["workload"] == "overlap" else ["complement", "bare"]
        order = timed * args.repeat + [m for m in methods if m not in timed]
        runs: dict[str, list[dict[str, Any]]] = {}
        for method in order:  # complement and bare alternate, so both see the same load
            spec = dict(
                case,
                method=method,
                device=args.device,
                dense_max_bytes=int(args.dense_max_gb * 1e9),
            )
            if case["workload"] == "ooc":
                spec["path"] = str(args.scratch / f"catalogue-{case['n']}x{case['d']}.npy")
            spec["save"] = str(args.scratch / f"idx-{method}.npy")
            Path(spec["save"]).unlink(missing_ok=True)
            print(
                f"{case['workload']:8s} n={case['n']:>8} q={case['q']:>6} d={case['d']:>5} "
                f"{method:10s}",
                end=" ",
                flush=True,
            )
            res = run_case(spec, args.timeout)
            runs.setdefault(method, []).append(res)
            print(
                f"{res.get('seconds', float('nan')):9.2f} s  "
                f"cpu {res.get('cpu_seconds', float('nan')):9.2f} s  "
                f"peak+{res.get('peak_over_inputs_mb', float('nan')):8.1f} MB  "
                f"{res.get('skipped') or res.get('error') or ''}",
                flush=True,
            )
        entry["methods"] = {m: best(rs) for m, rs in runs.items()}
        ref = args.scratch / "idx-complement.npy"
        for method in ("dense", "faiss", "cpu"):
            agree = agreement(ref, args.scratch / f"idx-{method}.npy")
            if agree is not None:
                entry["methods"][method]["same_neighbours_as_complement"] = agree
        if "cpu" in entry["methods"]:  # the GPU's lists against the CPU's, order included
            same = identical(ref, args.scratch / "idx-cpu.npy")
            entry["methods"]["cpu"]["identical_lists_to_complement"] = same
        bare = entry["methods"].get("bare", {})
        if "seconds" in bare:
            bare_times[(case["n"], case["q"], case["d"])] = bare
        if case["workload"] == "overlap":  # two views: twice the product of one view
            one = bare_times.get((case["n"], case["q"], case["d"]), {})
            bare = {key: 2 * one[key] for key in ("seconds", "cpu_seconds") if key in one}
            entry["bare_two_views"] = bare
        entry["ratio_to_bare"] = ratios(entry["methods"], bare, "seconds")
        entry["cpu_ratio_to_bare"] = ratios(entry["methods"], bare, "cpu_seconds")
        results.append(entry)
    for p in args.scratch.glob("idx-*.npy"):
        p.unlink()
    if not args.keep_scratch:
        for p in generated:
            p.unlink(missing_ok=True)

    body = {
        "grid": "quick" if args.quick else "full",
        "device": args.device,
        "machine": info,
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round((dt.datetime.now() - started).total_seconds(), 1),
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "k": K,
        "repeat": args.repeat,
        "cases": results,
        "targets": targets(results, args.device),
    }
    name = f"{slug(info['cpu'])}-{info['cores']}c-{args.device}-{started.date().isoformat()}"
    if args.quick:
        name += "-quick"
    path = args.out / f"{name}.json"
    write_json(path, document(SCHEMA, body))
    print(f"wrote {path}")
    return 0


# --- --engine ray: the Ray engine against the local engine on the same machine ---

ENGINE_SCHEMA = "complement.benchmarks.engine/1"
#: the projection's job: hits for 10M users against 1M items (one view)
PROJECT_USERS, PROJECT_ITEMS = 10_000_000, 1_000_000
PROJECT_WORKERS = (1, 16, 64, 256, 1024)


def engine_grid(quick: bool) -> list[dict[str, Any]]:
    n = 5000 if quick else 50_000
    return [
        {"workload": "item", "n": n, "q": n, "d": 384, "k": K},
        {"workload": "hits", "n": n, "q": n, "d": 64, "k": HITS_K},
    ]


def projection(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Hours for 10M users x 1M items on N one-CPU workers, from the measured per-shard rate.

    The work is the product (q x n scores); a shard's rate is its scores per CPU second of its
    worker process (a worker with a core of its own; median over the shards of the fastest
    run), or per wall second as measured here (``_wall_here``: the machine's other load
    included). A worker's rate is taken to be the same at n = 1M (the search is product-bound
    and the catalogue is read block by block), so time scales as q x n / (N x rate); per-call
    overheads (seconds) are left out.
    """
    out: dict[str, Any] = {
        "users": PROJECT_USERS,
        "items": PROJECT_ITEMS,
        "assumes": "one CPU per shard, its rate as measured here, per-call overheads left out",
        "by_d": {},
    }
    for entry in results:
        ray = entry["methods"].get("ray", {}).get("ray")
        if not ray:
            continue
        wall = float(np.median(ray["shard_pairs_per_second"]))
        cpu = float(np.median(ray["shard_pairs_per_cpu_second"]))
        pairs = PROJECT_USERS * PROJECT_ITEMS
        out["by_d"][str(entry["d"])] = {
            "from": entry["workload"],
            "shard_pairs_per_second": round(wall),
            "shard_pairs_per_cpu_second": round(cpu),
            # a worker with a core of its own (the shard's CPU time), and as measured here
            "hours_by_workers": {
                str(n): round(pairs / (n * cpu) / 3600, 2) for n in PROJECT_WORKERS
            },
            "hours_by_workers_wall_here": {
                str(n): round(pairs / (n * wall) / 3600, 2) for n in PROJECT_WORKERS
            },
        }
    return out


def main_engine(args: argparse.Namespace, only: set[str]) -> int:
    """``--engine ray``: each case with the local engine and the Ray engine, alternating."""
    from complement.io.jsonio import document, write_json

    out_dir = args.out or HERE / "results" / "ray"
    out_dir.mkdir(parents=True, exist_ok=True)
    args.scratch.mkdir(parents=True, exist_ok=True)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 2
    info = machine()
    try:
        import ray

        info["ray"] = ray.__version__
    except ImportError:
        raise SystemExit("--engine ray needs Ray: pip install 'complement[ray]'") from None
    started = dt.datetime.now()
    load_start = os.getloadavg()
    results: list[dict[str, Any]] = []
    for case in [c for c in engine_grid(args.quick) if not only or c["workload"] in only]:
        runs: dict[str, list[dict[str, Any]]] = {}
        for method in ["complement", "ray"] * args.repeat:  # alternating: the same load
            spec = dict(
                case,
                method=method,
                device=args.device,
                ray_address=args.ray_address,
                shards=args.shards,
                dense_max_bytes=0,
                save=str(args.scratch / f"idx-{method}.npy"),
            )
            Path(spec["save"]).unlink(missing_ok=True)
            print(
                f"{case['workload']:6s} n={case['n']:>7} q={case['q']:>6} d={case['d']:>4} "
                f"{'ray' if method == 'ray' else 'local':6s}",
                end=" ",
                flush=True,
            )
            res = run_case(spec, args.timeout)
            runs.setdefault(method, []).append(res)
            shards = res.get("ray", {}).get("shard_seconds")
            print(
                f"{res.get('seconds', float('nan')):8.2f} s"
                + (f"  shards {shards}" if shards else "")
                + f"  {res.get('skipped') or res.get('error') or ''}",
                flush=True,
            )
        local, remote = best(runs["complement"]), best(runs["ray"])
        a, b = args.scratch / "idx-complement.npy", args.scratch / "idx-ray.npy"
        same = a.exists() and b.exists() and bool(np.array_equal(np.load(a), np.load(b)))
        entry: dict[str, Any] = dict(case)
        entry["methods"] = {"local": local, "ray": remote}
        entry["identical_lists"] = same
        entry["memory_note"] = "peak_* figures are the driver process's only (Ray workers are not)"
        if "seconds" in local and "seconds" in remote:
            entry["ray_to_local"] = round(remote["seconds"] / local["seconds"], 3)
            entry["local_pairs_per_second_per_core"] = round(
                case["q"] * case["n"] / local["seconds"] / info["cores"]
            )
        if local.get("cpu_seconds"):
            entry["local_pairs_per_cpu_second"] = round(
                case["q"] * case["n"] / local["cpu_seconds"]
            )
        results.append(entry)
    for p in args.scratch.glob("idx-*.npy"):
        p.unlink()
    body = {
        "engine": "ray",
        "grid": "quick" if args.quick else "full",
        "device": args.device,
        "machine": info,
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round((dt.datetime.now() - started).total_seconds(), 1),
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "k": K,
        "repeat": args.repeat,
        "cases": results,
        "projection": projection(results),
    }
    name = f"{slug(info['cpu'])}-{info['cores']}c-{args.device}-ray-{started.date().isoformat()}"
    if args.quick:
        name += "-quick"
    path = out_dir / f"{name}.json"
    write_json(path, document(ENGINE_SCHEMA, body))
    print(f"wrote {path}")
    return 0


#: on cuda: complement's throughput at least this share of the bare torch product's
GPU_THROUGHPUT_TARGET = 0.7


def targets(results: list[dict[str, Any]], device: str = "cpu") -> dict[str, Any]:
    """The issue's targets, on the cases they name (not checked on the quick grid). On cuda,
    also each item k-NN and hits case: complement's throughput as a share of the bare torch
    product's (the bare product's seconds over complement's) and the share of query rows whose
    list is the CPU backend's, order included; met: at least the target and every list."""
    out: dict[str, Any] = {}
    worst: dict[str, float] = {}
    for entry in results:
        r = entry["ratio_to_bare"].get("complement")
        if device == "cuda" and entry["workload"] in ("item", "hits"):
            share = None if not r else round(1 / r, 3)
            same = entry["methods"].get("cpu", {}).get("identical_lists_to_complement")
            out[f"gpu_{entry['workload']}_n{entry['n']}_q{entry['q']}_d{entry['d']}"] = {
                "throughput_share_of_bare": share,
                "target": GPU_THROUGHPUT_TARGET,
                "same_lists_as_cpu": same,
                "met": share is not None and share >= GPU_THROUGHPUT_TARGET and same == 1.0,
            }
        over = entry["methods"].get("complement", {}).get("peak_over_inputs_mb")
        kind = "overlap_command" if entry["workload"] == "overlap" else "retrieval"
        if over is not None:
            worst[kind] = max(worst.get(kind, over), over)
        if entry["workload"] == "overlap" and (entry["n"], entry["d"]) == (50_000, 384):
            out["overlap_50k_d384"] = {
                "ratio_to_bare": r,
                "cpu_ratio_to_bare": entry["cpu_ratio_to_bare"].get("complement"),
                "target": 1.5,
                "met": r is not None and r <= 1.5,
            }
        if entry["workload"] == "hits" and entry["q"] == 50_000:
            out[f"hits_50k_users_d{entry['d']}"] = {
                "items": entry["n"],
                "ratio_to_bare": r,
                "cpu_ratio_to_bare": entry["cpu_ratio_to_bare"].get("complement"),
                "target": 2.0,
                "met": r is not None and r <= 2.0,
            }
    for kind, value in worst.items():
        out[f"peak_memory_over_inputs_mb_{kind}"] = {
            "worst": value,
            "target": 512,
            "met": value <= 512,
        }
    return out


if __name__ == "__main__":
    sys.exit(main())
