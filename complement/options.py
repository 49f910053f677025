"""The one table of options: every input file and option, and which command takes which.

Each :class:`Option` is declared once here (config key, kind, default, allowed values, help);
:mod:`complement.config` reads ``complement.toml`` and flags against it, and
:mod:`complement.cli.options` generates each command's Typer options and ``--help`` from it.
``COMMANDS`` is a literal table: nothing is registered by importing a module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ABOVE",
    "COMMANDS",
    "DATA_KEYS",
    "MAXIMUM",
    "MAX_N_BOOT",
    "MINIMUM",
    "OUTPUT_FOLDERS",
    "NOT_PROVENANCE",
    "OPTIONS",
    "OUTPUT_OPTIONS",
    "Option",
    "option",
]


@dataclass(frozen=True)
class Option:
    """One option: its TOML key (the flag is ``--`` + key with ``-`` for ``_``)."""

    name: str
    kind: str  # int | float | str | bool | path | ints | choice | choices | views
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _opts(*options: Option) -> dict[str, Option]:
    return {o.name: o for o in options}


DATA_KEYS = _opts(
    Option(
        "semantic",
        "path",
        help="semantic item embeddings (.npy/.npz/.parquet/.safetensors/.pt/.csv)",
    ),
    Option(
        "collaborative",
        "path",
        help="collaborative item embeddings (.npy/.npz/.parquet/.safetensors/.pt/.csv)",
    ),
    Option("sem_ids", "path", help="ids of the semantic .npy rows (.npy or one id per line)"),
    Option("cf_ids", "path", help="ids of the collaborative .npy rows (.npy or one id per line)"),
    Option("interactions", "path", help="interaction log (.parquet/.csv/.tsv)"),
    Option("items", "path", help="item metadata with titles (.parquet/.csv/.tsv)"),
    Option("sem_users", "path", help="semantic user embeddings (rows = user ids)"),
    Option("sem_users_ids", "path", help="ids of the semantic user-embedding rows"),
    Option("cf_users", "path", help="collaborative user embeddings (rows = user ids)"),
    Option("cf_users_ids", "path", help="ids of the collaborative user-embedding rows"),
    Option(
        "users",
        "path",
        help="user metadata (.parquet/.csv/.tsv) keyed by --user-col, for --segment-col",
    ),
    Option("train", "path", help="train log for --split files"),
    Option("test", "path", help="test log for --split files"),
    Option(
        "cf_replicate",
        "path",
        help="the collaborative model trained again (another seed): the noise ceiling",
    ),
    Option(
        "sem_replicate",
        "path",
        help="the semantic model again (another seed or encoder run): the noise ceiling",
    ),
)

OPTIONS: dict[str, Option] = _opts(
    # shared
    Option("k", "ints", (10, 20, 50), help="cut-offs, comma-separated, e.g. 10,20,50"),
    Option("metric", "choice", "cosine", ("cosine", "ip"), help="similarity: cosine or ip"),
    Option("seed", "int", 0, help="seed for every random choice"),
    Option("device", "choice", "auto", ("auto", "cpu", "cuda"), help="auto, cpu or cuda"),
    Option("drop_invalid", "bool", False, help="drop NaN/inf/zero rows from both views"),
    Option("sample", "int", None, help="number of query items sampled (seeded); default all"),
    Option("n_boot", "int", 1000, help="bootstrap resamples for the 95% intervals"),
    Option("user_col", "str", "user_id", help="user column of the interaction log"),
    Option(
        "item_col", "str", "item_id", help="item id column of the interaction log and of --items"
    ),
    Option("time_col", "str", "timestamp", help="timestamp column of the interaction log"),
    Option("title_col", "str", "title", help="title column of the item metadata"),
    Option(
        "max_missing",
        "float",
        0.5,
        help="refuse a log when a larger share of its rows names items without embeddings",
    ),
    Option(
        "quiet",
        "bool",
        False,
        # the CLI adds the command's outputs that may go to standard output: "no tables with
        # --json -" (or "--json - or --markdown -")
        help="nothing on stderr but errors: no progress",
    ),
    # splits
    Option(
        "split",
        "choice",
        "temporal",
        ("temporal", "user-temporal", "random", "files"),
        help="temporal, user-temporal, random or files",
    ),
    Option("test_frac", "float", 0.2, help="fraction of the log used as test"),
    Option("cutoff", "float", None, help="temporal cutoff timestamp (overrides --test-frac)"),
    Option("valid_frac", "float", 0.1, help="fraction of train carved out for tuning fusion"),
    # oracle
    Option("rrf_depth", "int", 200, help="depth of each view's list in reciprocal rank fusion"),
    Option(
        "alpha",
        "float",
        None,
        help="fix the score-interpolation weight in [0, 1] (alpha * z_S + (1 - alpha) * z_C on "
        "standardised scores) instead of tuning it on validation",
    ),
    # segments and diversity
    Option(
        "segment_col",
        "str",
        None,
        help="report every table per segment: a column of --items (list columns allowed) or "
        "--users; 'activity' for the built-in cold/mid/hot user segments",
    ),
    Option(
        "diversity_view",
        "str",
        None,
        help="view whose cosine distance measures intra-list diversity (default: semantic; "
        "compare: the first --view)",
    ),
    # probe
    Option(
        "capacity",
        "choice",
        "linear",
        ("linear", "lowrank", "mlp1", "mlp2", "mlp3", "all"),
        help="probe capacity",
    ),
    Option(
        "shift",
        "choice",
        "random",
        ("random", "temporal", "popularity", "cold", "none"),
        help="distribution shift deciding train/test items",
    ),
    Option("direction", "choice", "sem2cf", ("sem2cf", "cf2sem"), help="sem2cf or cf2sem"),
    Option("ridge_alpha", "float", None, help="fixed ridge penalty (default: 5-fold CV)"),
    Option("rank", "int", 16, help="rank of the lowrank probe"),
    Option("max_epochs", "int", 200, help="maximum MLP epochs (with early stopping)"),
    Option(
        "early_stop",
        "bool",
        True,
        help="MLP probes: stop on a holdout of the train items (--no-early-stop: the paper's "
        "fixed --epochs, default 400)",
    ),
    Option("raw", "bool", False, help="probe raw rows (no L2 normalisation, as in the paper)"),
    Option("tail_frac", "float", 0.2, help="least popular fraction as test (popularity shift)"),
    Option("max_interactions", "int", 5, help="cold items: at most this many train interactions"),
    # structure
    Option("max_dim", "int", 64, help="PCA components per view before CCA"),
    Option("permutations", "int", 20, help="permutations of the null"),
    Option("neighbours", "int", 10, help="neighbours listed per view (explain)"),
    # report
    Option("html", "path", None, help="write a self-contained HTML report here"),
    Option("markdown", "path", None, help="write a Markdown report here"),
    # gate
    Option("baseline", "path", None, help="baseline report JSON"),
    Option("rules", "path", None, help="gate rules TOML"),
    Option("allow_incomparable", "bool", False, help="compare reports that are not comparable"),
    # align
    Option(
        "method",
        "choices",
        "all",
        ("directau", "carec", "darec", "sella", "ncn", "semproj", "lightgcn", "all"),
        help="trained systems, comma-separated (e.g. ncn,semproj,lightgcn,darec) or all",
    ),
    Option(
        "epochs",
        "int",
        None,
        help="training epochs (align: the most per phase, default 10 for every system; probe "
        "with --no-early-stop: 400)",
    ),
    Option(
        "seeds", "int", 1, help="train every system with this many seeds (--seed, --seed + 1, ...)"
    ),
    Option(
        "grid",
        "choice",
        "small",
        ("small", "none"),
        help="validation tuning grid of every trained system (docs/strategies.md) or none",
    ),
    Option("lr", "float", None, help="learning rate (default: per strategy)"),
    Option("dim", "int", 64, help="embedding dimension"),
    Option("export", "path", None, help="folder for the learned embeddings (.npz)"),
    # output
    Option("json", "path", None, help="write the JSON result here (- for standard output)"),
    Option(
        "rankings",
        "path",
        None,
        help="write every system's ranked lists here (.parquet: system, user_id, rank, item_id, "
        "score, hit)",
    ),
    Option("run_dir", "path", None, help="write TREC run files and qrels.txt into this folder"),
    Option("per_item", "path", None, help="write the per-item table here (.parquet)"),
    Option("per_user", "path", None, help="write the per-user table here (.parquet)"),
    # joins and input formats
    Option(
        "positional_ids",
        "bool",
        False,
        help="take row positions as ids (row i = id i) even where they look mismatched: a view "
        "without ids beside one with ids, or views or user vectors without ids against a log "
        "whose ids look shifted",
    ),
    Option(
        "min_shared",
        "float",
        0.5,
        help="refuse a join whose shared items are fewer than this share of the smaller view",
    ),
    Option("sem_key", "str", None, help="tensor or key of the semantic embeddings in the file"),
    Option("cf_key", "str", None, help="tensor or key of the collaborative embeddings in the file"),
    Option(
        "vector_cols",
        "str",
        None,
        help='parquet views: the per-dimension columns, a glob such as "emb_*"',
    ),
    # many views
    Option(
        "view",
        "views",
        (),
        help="a named item-embedding view NAME=PATH or NAME=PATH:IDS (repeat for each view); "
        'in complement.toml a list view = ["NAME=PATH[:IDS]", ...] or a [views] table',
    ),
    Option("anchor", "str", None, help="the view the others are ranked against (e.g. the CF)"),
    # engine
    Option(
        "engine",
        "choice",
        "local",
        ("local", "ray"),
        help="where retrieval runs: this process, or Ray tasks (pip install 'complement[ray]')",
    ),
    Option(
        "ray_address",
        "str",
        None,
        help="Ray cluster to connect to (default: $RAY_ADDRESS, else a local instance)",
    ),
)

#: documented largest bootstrap resample count (memory and time grow with it)
MAX_N_BOOT = 100_000

#: allowed ranges of numeric options (inclusive), checked for flags and config alike; every
#: float option must also be finite
MAXIMUM: dict[str, float] = {
    "seed": 2**63 - 1,
    "n_boot": MAX_N_BOOT,
    "max_missing": 1.0,
    "min_shared": 1.0,
    "alpha": 1.0,
    "seeds": 100,
}
MINIMUM: dict[str, float] = {
    "max_missing": 0.0,
    "min_shared": 0.0,
    "alpha": 0.0,
    "seeds": 1,
    "seed": 0,
    "sample": 1,
    "n_boot": 1,
    "rrf_depth": 1,
    "rank": 1,
    "max_epochs": 1,
    "max_interactions": 0,
    "max_dim": 1,
    "permutations": 1,
    "neighbours": 1,
    "epochs": 1,
    "dim": 1,
}

#: options whose value must lie above this bound (the bound itself excluded)
ABOVE: dict[str, float] = {"ridge_alpha": 0.0}

#: option groups shared by several commands
JOIN_OPTIONS = ("positional_ids", "min_shared", "sem_key", "cf_key", "vector_cols")
VIEW_OPTIONS = (
    "semantic", "collaborative", "sem_ids", "cf_ids", "metric", "drop_invalid", *JOIN_OPTIONS
)
#: the user-level commands score each view as defined (cosine / inner product): no --metric
RANKING_VIEWS = ("semantic", "collaborative", "sem_ids", "cf_ids", "drop_invalid", *JOIN_OPTIONS)
ENGINE_OPTIONS = ("engine", "ray_address")
REPLICATES = ("cf_replicate", "sem_replicate")
LOG_OPTIONS = ("interactions", "user_col", "item_col", "time_col", "max_missing")
SPLIT_OPTIONS = ("split", "test_frac", "cutoff", "valid_frac", "train", "test")
#: the split options a probe uses (no validation part: train interactions = non-test rows)
PROBE_SPLIT = ("split", "test_frac", "cutoff", "train", "test")
USER_OPTIONS = ("sem_users", "sem_users_ids", "cf_users", "cf_users_ids")
RUN_OPTIONS = ("seed", "device", *ENGINE_OPTIONS, "json", "quiet")
PROBE_OPTIONS = ("shift", "direction", "ridge_alpha", "rank", "max_epochs", "tail_frac")
#: the paper's probe protocol (fixed epochs, raw rows)
PROBE_PROTOCOL = ("early_stop", "epochs", "raw")
#: segments of every user-level table
SEGMENTS = ("segment_col", "users")
#: options naming files that a command writes (checked before any work)
OUTPUT_OPTIONS = ("json", "html", "markdown", "rankings", "per_item", "per_user")
#: options naming folders that a command writes into
OUTPUT_FOLDERS = ("run_dir", "export")
RANKED = ("rankings", "run_dir")
#: options left out of the provenance: the same inputs give the same JSON wherever it is written
NOT_PROVENANCE = (*OUTPUT_OPTIONS, *OUTPUT_FOLDERS, "quiet")

#: command -> the options it takes (from OPTIONS and DATA_KEYS), in the order of its --help
COMMANDS: dict[str, tuple[str, ...]] = {
    "overlap": VIEW_OPTIONS + RUN_OPTIONS + ("k", "sample") + LOG_OPTIONS
    + ("items", "title_col", "per_item") + REPLICATES + SEGMENTS,
    "hits": RANKING_VIEWS + LOG_OPTIONS + SPLIT_OPTIONS + USER_OPTIONS + RUN_OPTIONS
    + ("k", "n_boot") + RANKED + ("per_user",) + REPLICATES
    + ("items", "title_col") + SEGMENTS + ("diversity_view",),
    "oracle": RANKING_VIEWS + LOG_OPTIONS + SPLIT_OPTIONS + USER_OPTIONS + RUN_OPTIONS
    + ("k", "n_boot", "rrf_depth", "alpha") + RANKED + ("per_user",)
    + ("items", "title_col") + SEGMENTS + ("diversity_view",),
    "probe": VIEW_OPTIONS + RUN_OPTIONS + LOG_OPTIONS + PROBE_SPLIT + USER_OPTIONS
    + ("capacity", *PROBE_OPTIONS, *PROBE_PROTOCOL, "max_interactions", "items", "title_col")
    + ("per_item",),
    "structure": VIEW_OPTIONS + ("seed", "json", "quiet")
    + ("max_dim", "permutations", "direction", "ridge_alpha", "items", "title_col")
    + LOG_OPTIONS + ("per_item",) + REPLICATES,
    "explain": VIEW_OPTIONS + ("device", *ENGINE_OPTIONS, "json", "quiet")
    + ("neighbours", "items", "item_col", "title_col"),
    "report": VIEW_OPTIONS + RUN_OPTIONS + LOG_OPTIONS + SPLIT_OPTIONS + USER_OPTIONS
    + ("k", "sample", "n_boot", "items", "title_col", "rrf_depth", "alpha")
    + (*PROBE_OPTIONS, "max_interactions")
    + ("max_dim", "permutations", "html", "markdown") + RANKED + ("per_item", "per_user")
    + REPLICATES + SEGMENTS + ("diversity_view",),
    "gate": ("baseline", "rules", "allow_incomparable", "json", "markdown"),
    "compare": ("view", "anchor", "metric", "drop_invalid", "positional_ids", "min_shared")
    + LOG_OPTIONS + SPLIT_OPTIONS + RUN_OPTIONS
    + ("k", "sample", "n_boot", "html", "markdown")
    + ("items", "title_col") + SEGMENTS + ("diversity_view",),
    "align": RANKING_VIEWS + LOG_OPTIONS + SPLIT_OPTIONS + USER_OPTIONS + RUN_OPTIONS
    + ("n_boot", "rrf_depth", "alpha", "method", "epochs", "lr", "dim", "seeds", "grid")
    + ("export",) + RANKED + ("diversity_view",),
    "demo": ("quiet",),
}  # fmt: skip


def option(name: str) -> Option:
    """The declaration of an option or input file, by its config key."""
    return OPTIONS.get(name) or DATA_KEYS[name]
