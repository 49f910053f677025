#!/usr/bin/env python
"""Peak memory of ``complement hits`` on a large interaction log, measured as a whole process.

    python benchmarks/memory.py                    # the 5M case (about 2 minutes on 2 cores)
    python benchmarks/memory.py --rows 500000 --users 10000 --items 5000   # a quick check
    python benchmarks/memory.py --keep /tmp/memcase  # keep the generated inputs there

The case: an interaction log of 5,000,000 rows (100,000 users, 50,000 items; integer ids,
unix-second timestamps; item popularity skewed) as parquet, and two views of the 50,000 items,
a 384-dimensional semantic and a 64-dimensional collaborative one (float32 ``.npy``, row i is
item i). The command is

    complement hits sem.npy cf.npy --interactions log.parquet --quiet --json out.json

run as a fresh process; its peak resident memory is the ``ru_maxrss`` of the finished child
(``resource.getrusage(RUSAGE_CHILDREN)``, which is the largest child so far: the script runs
nothing else as a child before it), cross-checked with ``/usr/bin/time -v`` where that program
exists. The result, with the input sizes, goes to ``benchmarks/results/memory-<date>.json``.
Target: a peak under 1 GB (``TARGET_PEAK_MB``).

The log used to be held as one 84-byte numpy string per row and per id column (user and item),
sorted as strings twice (about 2 GB at peak for 140 MB of input); it is now read as integer codes
with strings for the distinct ids only (complement/io/interactions.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCHEMA = "complement.benchmarks.memory/1"
TARGET_PEAK_MB = 1024.0


def complement_exe() -> list[str]:
    exe = Path(sys.executable).with_name("complement")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "complement"]


def make_inputs(folder: Path, rows: int, users: int, items: int, dims: tuple[int, int]) -> None:
    """The log (parquet) and the two views (.npy), seeded; written in chunks of 1M rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    # popularity-skewed items (Zipf-like weights), uniform users, increasing timestamps
    weights = 1.0 / np.arange(1, items + 1) ** 0.8
    weights /= weights.sum()
    perm = rng.permutation(items)
    schema = pa.schema(
        [("user_id", pa.int64()), ("item_id", pa.int64()), ("timestamp", pa.int64())]
    )
    chunk = 1_000_000
    with pq.ParquetWriter(folder / "log.parquet", schema) as writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            user = rng.integers(0, users, n, dtype=np.int64)
            item = perm[rng.choice(items, size=n, p=weights)].astype(np.int64)
            ts = 1_000_000_000 + start + np.arange(n, dtype=np.int64)
            writer.write_table(
                pa.table({"user_id": user, "item_id": item, "timestamp": ts}, schema=schema)
            )
    for name, d in zip(("sem.npy", "cf.npy"), dims, strict=True):
        centres = rng.standard_normal((max(items // 100, 1), d)).astype(np.float32)
        x = centres[rng.integers(0, centres.shape[0], items)]
        x += 0.7 * rng.standard_normal((items, d)).astype(np.float32)
        np.save(folder / name, x)


def run_case(folder: Path, extra: list[str]) -> dict[str, Any]:
    """Run ``complement hits`` once as a child; its peak RSS and wall time."""
    out = folder / "out.json"
    argv = [
        *complement_exe(),
        "hits",
        str(folder / "sem.npy"),
        str(folder / "cf.npy"),
        "--interactions",
        str(folder / "log.parquet"),
        "--quiet",
        "--json",
        str(out),
        *extra,
    ]
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    report = folder / "time.txt"
    cmd = [timer, "-v", "-o", str(report), *argv] if timer else argv
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    rusage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Linux reports ru_maxrss in KiB; with /usr/bin/time in between, the largest child is
    # complement itself (time's own footprint is a few MB)
    peak_kib = rusage.ru_maxrss
    time_kib = None
    if timer and report.exists():
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read_text())
        time_kib = int(found.group(1)) if found else None
    result: dict[str, Any] = {
        "argv": ["complement", *argv[len(complement_exe()) :]],
        "exit_code": proc.returncode,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "peak_rss_mb_time_v": None if time_kib is None else round(time_kib / 1024, 1),
    }
    if proc.returncode != 0:
        result["stderr_tail"] = proc.stderr[-2000:]
    elif out.exists():
        doc = json.loads(out.read_text())
        result["n_users_evaluated"] = doc.get("n_users")
        result["n_items"] = doc.get("n_items")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--dims", default="384,64", help="semantic,collaborative dimensions")
    parser.add_argument("--keep", type=Path, default=None, help="keep the inputs in this folder")
    parser.add_argument("--out", type=Path, default=None, help="result file (default: dated)")
    parser.add_argument("extra", nargs="*", help="further options for complement hits")
    args = parser.parse_args(argv)
    dims = tuple(int(d) for d in args.dims.split(","))
    assert len(dims) == 2

    tmp = None
    if args.keep is not None:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="complement-memory-")
        folder = Path(tmp.name)
    try:
        if not (folder / "log.parquet").exists():
            t0 = time.perf_counter()
            make_inputs(folder, args.rows, args.users, args.items, (dims[0], dims[1]))
            print(f"inputs written in {time.perf_counter() - t0:.1f} s to {folder}", flush=True)
        sizes = {
            name: (folder / name).stat().st_size for name in ("log.parquet", "sem.npy", "cf.npy")
        }
        case = run_case(folder, list(args.extra))
    finally:
        if tmp is not None:
            tmp.cleanup()

    total_mb = sum(sizes.values()) / 2**20
    doc = {
        "schema": SCHEMA,
        "date": dt.date.today().isoformat(),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "case": {
            "rows": args.rows,
            "users": args.users,
            "items": args.items,
            "dims": list(dims),
            "input_bytes": sizes,
            "input_mb": round(total_mb, 1),
        },
        "target_peak_mb": TARGET_PEAK_MB,
        "result": case,
        "within_target": case["exit_code"] == 0 and case["peak_rss_mb"] <= TARGET_PEAK_MB,
    }
    out = args.out or HERE / "results" / f"memory-{doc['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc["result"], indent=2))
    print(f"input {total_mb:.0f} MB, peak RSS {case['peak_rss_mb']:.0f} MB -> {out}")
    return 0 if case["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
