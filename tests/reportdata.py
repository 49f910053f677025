"""Small synthetic inputs for the report, gate and HTML tests (imported by those tests).

Items have latent factors V; users pick items by a softmax over U·V, so a view close to V (the
collaborative one here) ranks test items well, and one whose rows are shuffled does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

N_ITEMS = 160
N_USERS = 80
PER_USER = 24

#: fast settings: every section runs in about a second
CONFIG_OPTIONS = """[options]
k = [5, 10]
split = "temporal"
test_frac = 0.25
valid_frac = 0.2
seed = 3
n_boot = 200
permutations = 5
max_epochs = 5

[report]
shift = "popularity"
"""


def write_dataset(folder: Path, *, log: bool = True, seed: int = 0) -> Path:
    """Write sem.npy, cf.npy, item_ids.txt, log.csv and complement.toml; return the config."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((N_ITEMS, 8))
    users = rng.standard_normal((N_USERS, 8))
    rows = []
    for u in range(N_USERS):
        logits = 2.0 * latent @ users[u]
        p = np.exp(logits - logits.max())
        items = rng.choice(N_ITEMS, size=PER_USER, replace=False, p=p / p.sum())
        times = np.sort(rng.integers(0, 10_000, size=PER_USER))
        rows += [f"{u},{1000 + i},{t}" for i, t in zip(items, times, strict=True)]
    cf = (latent + 0.3 * rng.standard_normal(latent.shape)).astype(np.float32)
    sem = np.hstack([latent[:, :4], rng.standard_normal((N_ITEMS, 12))])
    sem = (sem + 0.3 * rng.standard_normal(sem.shape)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "sem.npy", sem)
    np.save(folder / "cf.npy", cf)
    (folder / "item_ids.txt").write_text("".join(f"{1000 + i}\n" for i in range(N_ITEMS)))
    (folder / "log.csv").write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    data = (
        '[data]\nsemantic = "sem.npy"\ncollaborative = "cf.npy"\nsem_ids = "item_ids.txt"\n'
        'cf_ids = "item_ids.txt"\n' + ('interactions = "log.csv"\n' if log else "")
    )
    config = folder / "complement.toml"
    config.write_text(data + CONFIG_OPTIONS)
    return config


def shuffle_cf_rows(folder: Path, seed: int = 1) -> None:
    """Damage the collaborative view: rows permuted, ids left in place."""
    cf = np.load(folder / "cf.npy")
    np.save(folder / "cf.npy", cf[np.random.default_rng(seed).permutation(cf.shape[0])])


def without_timings(text: str) -> str:
    """The report's JSON text up to its last key, ``timings``."""
    head, sep, _ = text.partition('\n  "timings": ')
    assert sep, "the report has no timings key"
    return head


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text())


_ROOT: Path | None = None
_REPORTS: dict[tuple[str, ...], Path] = {}


def _root() -> Path:
    global _ROOT
    if _ROOT is None:
        import atexit
        import shutil
        import tempfile

        _ROOT = Path(tempfile.mkdtemp(prefix="complement-reports-"))
        atexit.register(shutil.rmtree, _ROOT, True)
    return _ROOT


def dataset(name: str, *, log: bool = True, damaged: bool = False) -> Path:
    """A dataset folder written once per test session; returns its complement.toml."""
    folder = _root() / name
    config = folder / "complement.toml"
    if not config.exists():
        write_dataset(folder, log=log)
        if damaged:
            shuffle_cf_rows(folder)
    return config


def report(config: Path, *args: str) -> Path:
    """``complement report --config CONFIG ARGS --json ...`` run once per session per arguments."""
    from typer.testing import CliRunner

    from complement.cli.app import app

    key = (str(config), *args)
    if key not in _REPORTS:
        path = _root() / f"report-{len(_REPORTS)}.json"
        argv = ["report", "--config", str(config), *args, "--json", str(path), "--quiet"]
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0, result.output
        _REPORTS[key] = path
    return _REPORTS[key]


def string_console(width: int = 200, *, color: bool = False) -> Any:
    """A Rich console writing into a string (``console.file.getvalue()``), ``width`` columns,
    with colour codes only when ``color``."""
    import io

    from rich.console import Console

    return Console(
        file=io.StringIO(),
        width=width,
        force_terminal=color,
        color_system="truecolor" if color else None,
        legacy_windows=False,
    )
