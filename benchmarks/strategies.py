#!/usr/bin/env python
"""The figures of docs/strategies.md, from one committed run of ``complement align``.

    python benchmarks/strategies.py            # run align on the fixture, write the JSON + doc
    python benchmarks/strategies.py --check    # the doc's tables match the committed JSON?
    python benchmarks/strategies.py --from run.json --wall 480 --cpu 300   # a finished run

The run is ``complement align --config fixtures/movielens-100k/complement.toml --method all``
(the default grid, one seed, 1000 bootstrap resamples), in-process on one torch thread; its
JSON, with the wall and CPU seconds it took, goes to ``benchmarks/results/strategies.json``,
and the tables between the ``strategies-figures`` markers of docs/strategies.md are rewritten
from it. ``--check`` renders the tables from the committed JSON and exits 1 when the doc
differs (tests/benchmarks/test_strategies_doc.py runs it), so the doc cannot go stale.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "strategies.json"
DOC = ROOT / "docs" / "strategies.md"
CONFIG = ROOT / "fixtures" / "movielens-100k" / "complement.toml"
START, END = "<!-- strategies-figures:start -->", "<!-- strategies-figures:end -->"
SETTINGS = ("warm", "cold", "cold_all")
VIEWS = ("semantic", "collaborative")


def _f(x: Any, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _ci(pair: Any) -> str:
    return "" if not pair else f" [{_f(pair[0])}, {_f(pair[1])}]"


def _cell(s: dict[str, Any], system: str) -> str:
    """Recall@20 with its interval (views, fusions, trained systems), or the oracle bound."""
    if s.get("skipped") is not None:
        return "–"
    if system in VIEWS:
        return _f(s["recall"][system]) + _ci(s["recall"]["ci95"][system])
    if system.startswith("oracle "):
        bound = system.split()[1]
        return _f(s["oracle"][bound]) + _ci(s["oracle"]["ci95"][bound])
    row = s["fusion"][system]
    return _f(row["recall"]) + _ci(row["ci95"]["recall"])


def _p(s: dict[str, Any], system: str) -> str:
    row = s.get("fusion", {}).get(system)
    if not isinstance(row, dict) or row.get("p") is None:
        return ""
    diff = row.get("pooled", {}).get("mean_diff", row.get("mean_diff")) or 0.0
    arrow = "↑" if diff > 0 else "↓" if diff < 0 else "="
    return f"{arrow} {_f(row['p'])} / {_f(row['p_holm'])}"


def render(doc: dict[str, Any]) -> str:
    """The Markdown block the doc quotes: the results table, the tuning table, the timing."""
    settings = doc["settings"]
    warm = settings["warm"]
    fusions = [m for m in warm["fusion"] if m not in doc["systems"]]
    systems = [*VIEWS, *fusions, "oracle union", "oracle budget", "oracle select", *doc["systems"]]
    lines = [
        "| system | warm R@20 [95% CI] | warm N@20 | warm p / p Holm | cold R@20 [95% CI] "
        "| cold among all R@20 [95% CI] |",
        "|---|---|---|---|---|---|",
    ]
    for system in systems:
        if system in VIEWS:
            ndcg = _f(warm["ndcg"][system])
        elif system.startswith("oracle"):
            ndcg = "–"
        else:
            ndcg = _f(warm["fusion"][system]["ndcg"])
        label = f"`{system}`" if system not in VIEWS and not system.startswith("oracle") else system
        lines.append(
            f"| {label} | {_cell(warm, system)} | {ndcg} | {_p(warm, system)} | "
            f"{_cell(settings['cold'], system)} | {_cell(settings['cold_all'], system)} |"
        )
    lines += [
        "",
        "| system | tuned lr | tuned weight | grid points | epochs run | valid NDCG@10 |",
        "|---|---|---|---|---|---|",
    ]
    for name, t in doc["training"].items():
        chosen = t["tuning"]["chosen"]
        axis = t["tuning"]["axis"]
        weight = "–" if chosen.get("weight") is None else f"{axis} = {chosen['weight']:g}"
        epochs = " + ".join(str(v) for v in t["epochs_run"].values())
        valid = [v for v in t["best_valid_ndcg10"].values() if v is not None]
        lines.append(
            f"| `{name}` | {chosen['lr']:g} | {weight} | {len(t['tuning']['grid'])} | {epochs} | "
            f"{_f(valid[-1] if valid else None)} |"
        )
    run = doc.get("benchmark", {})
    lines += [
        "",
        f"Run: `{run.get('command', '')}`: {run.get('wall_seconds', 0):.0f} s wall, "
        f"{run.get('cpu_seconds', 0):.0f} s CPU on {run.get('machine', 'the machine')}; "
        f"interpolation α = {doc['alpha']:g}; p-values: paired bootstrap against the best "
        f"single view of the setting ({doc['n_boot']} resamples), raw / Holm over all "
        f"{sum(len(s.get('fusion', {})) for s in settings.values())} tests.",
    ]
    return "\n".join(lines)


def _spliced(text: str, block: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}\n{END}{tail}"


def _benchmark(wall: float, cpu: float) -> dict[str, Any]:
    import os
    import platform

    command = f"complement align --config {CONFIG.relative_to(ROOT)} --method all"
    machine = f"{os.cpu_count()} CPU cores ({platform.machine()})"
    return {"command": command, "wall_seconds": wall, "cpu_seconds": cpu, "machine": machine}


def run() -> dict[str, Any]:
    """Run align on the fixture in-process; the document with the run's timing."""
    import os

    from typer.testing import CliRunner

    from complement.cli.app import app

    out = RESULT.with_suffix(".tmp.json")
    command = [
        "align", "--config", str(CONFIG.relative_to(ROOT)), "--method", "all",
        "--json", str(out), "--quiet",
    ]  # fmt: skip
    os.chdir(ROOT)
    wall, cpu = time.perf_counter(), time.process_time()
    result = CliRunner().invoke(app, command)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if result.exit_code != 0:
        raise SystemExit(result.output)
    doc = json.loads(out.read_text())
    out.unlink()
    doc.pop("provenance", None)  # paths, versions and timestamps: not figures
    doc["benchmark"] = _benchmark(wall, cpu)
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare the doc with the JSON")
    parser.add_argument("--from", dest="source", help="the JSON of a finished align run")
    parser.add_argument("--wall", type=float, default=0.0, help="its wall seconds (--from)")
    parser.add_argument("--cpu", type=float, default=0.0, help="its CPU seconds (--from)")
    args = parser.parse_args(argv)
    if args.check:
        doc = json.loads(RESULT.read_text())
        want = _spliced(DOC.read_text(), render(doc))
        if want != DOC.read_text():
            print("docs/strategies.md differs from benchmarks/results/strategies.json; run "
                  "python benchmarks/strategies.py", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    if args.source:
        doc = json.loads(Path(args.source).read_text())
        doc.pop("provenance", None)
        doc["benchmark"] = _benchmark(args.wall, args.cpu)
    else:
        doc = run()
    RESULT.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    DOC.write_text(_spliced(DOC.read_text(), render(doc)))
    print(render(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
