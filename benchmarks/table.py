"""Markdown tables from a ``benchmarks/run.py`` result file (what the README and
docs/scaling.md show).

    .venv/bin/python benchmarks/table.py benchmarks/results/amd-epyc-2c-cpu-2026-11-22.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

WORKLOAD = {
    "item": "item k-NN",
    "overlap": "overlap (two views, CKA, bootstrap)",
    "hits": "hits (history masked)",
    "ooc": "item k-NN, memory-mapped catalogue",
}


def _count(x: int) -> str:
    if x >= 1_000_000 and x % 1_000_000 == 0:
        return f"{x // 1_000_000}M"
    if x >= 1000 and x % 1000 == 0:
        return f"{x // 1000}k"
    return str(x)


def _method(entry: dict[str, Any], name: str) -> str:
    m = entry["methods"].get(name, {})
    if "skipped" in m:
        return "– (" + str(m["skipped"]) + ")"
    ratio = entry["ratio_to_bare"].get(name)
    if ratio is None or m.get("seconds") is None:
        return "–"
    same = m.get("same_neighbours_as_complement")
    agree = "" if same is None else f", same lists {100 * same:.0f}%"
    return f"{ratio:.2f}× ({m['seconds']:.1f} s, +{m['peak_over_inputs_mb']:.0f} MB{agree})"


def cases_table(doc: dict[str, Any]) -> str:
    cpu = any("cpu" in e["methods"] for e in doc["cases"])  # a GPU run: its CPU backend too
    rows = [
        "| workload | catalogue n | queries | d | complement | ÷ bare | over inputs "
        "| faiss flat | dense research code |" + (" CPU backend |" if cpu else ""),
        "|---|---|---|---|---|---|---|---|---|" + ("---|" if cpu else ""),
    ]
    for e in doc["cases"]:
        c = e["methods"].get("complement", {})
        bare = e.get("bare_two_views") or e["methods"].get("bare", {})
        ratio = e["ratio_to_bare"].get("complement")
        rows.append(
            f"| {WORKLOAD[e['workload']]} | {_count(e['n'])} | {_count(e['q'])} | {e['d']} "
            f"| {c.get('seconds', float('nan')):.2f} s "
            f"| **{ratio:.2f}×** (bare {bare.get('seconds', float('nan')):.2f} s) "
            f"| {c.get('peak_over_inputs_mb', float('nan')):.0f} MB "
            f"| {_method(e, 'faiss')} | {_method(e, 'dense')} |"
            + (f" {_method(e, 'cpu')} |" if cpu else "")
        )
    return "\n".join(rows)


def targets_table(doc: dict[str, Any]) -> str:
    names = {
        "overlap_50k_d384": "overlap, 50k items, d = 384: time ÷ bare product",
        "hits_50k_users_d64": "hits, 50k users, d = 64: time ÷ bare product",
        "hits_50k_users_d384": "hits, 50k users, d = 384: time ÷ bare product",
        "peak_memory_over_inputs_mb_retrieval": "retrieval, every case: peak MB over the inputs",
        "peak_memory_over_inputs_mb_overlap_command": "overlap's whole call: peak MB over inputs",
    }
    rows = ["| target | measured | limit | met |", "|---|---|---|---|"]
    for key, t in doc["targets"].items():
        if "throughput_share_of_bare" in t:  # a GPU run: share of the bare torch product's
            share, same = t["throughput_share_of_bare"], t.get("same_lists_as_cpu")
            shown = "–" if share is None else f"{100 * share:.0f}% of bare"
            if same is not None:
                shown += f", same lists as the CPU {100 * same:.0f}%"
            met = "yes" if t["met"] else "NO"
            rows.append(f"| {key} | {shown} | ≥ {100 * t['target']:.0f}% | {met} |")
            continue
        value = t.get("ratio_to_bare", t.get("worst"))
        shown = f"{value:.2f}×" if "ratio_to_bare" in t else f"{value:.0f} MB"
        limit = f"≤ {t['target']}×" if "ratio_to_bare" in t else f"≤ {t['target']} MB"
        met = "yes" if t["met"] else "NO"
        rows.append(f"| {names.get(key, key)} | {shown} | {limit} | {met} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("result", type=Path, help="a JSON file written by benchmarks/run.py")
    args = ap.parse_args(argv)
    try:
        doc = json.loads(args.result.read_text())
        m = doc["machine"]
        print(
            f"{m['cpu']}, {m['cores']} cores, {m['blas']}, device {doc['device']}, "
            f"k = {doc['k']}, fastest of {doc['repeat']} runs, {doc['started']}\n"
        )
        print(targets_table(doc) + "\n")
        print(cases_table(doc))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {args.result}: not a benchmarks/run.py result ({exc})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
