"""``complement.toml`` + command-line flags -> one frozen :class:`Settings`.

Layout of the file (every key optional; paths are relative to the file)::

    [data]        # input files: semantic, collaborative, sem_ids, cf_ids, interactions, items,
                  # sem_users, sem_users_ids, cf_users, cf_users_ids, train, test
    [options]     # any option of any command, e.g. k = [10, 20, 50], seed = 0, split = "temporal"
    [overlap]     # options for one command only; override [options]
    [gate]        # ... likewise for every command

Precedence: a flag given on the command line > ``[<command>]`` > ``[options]`` > built-in
default. Unknown sections or keys, and values of the wrong type, are errors (a typo must not
be ignored). :class:`Settings` remembers where each value came from.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from complement.errors import ConfigError, InputError, UsageError

__all__ = [
    "COMMANDS",
    "CONFIG_NAME",
    "DATA_KEYS",
    "MINIMUM",
    "NOT_PROVENANCE",
    "OPTIONS",
    "OUTPUT_OPTIONS",
    "Option",
    "Settings",
    "option",
    "parse_ints",
    "resolve",
]

CONFIG_NAME = "complement.toml"


@dataclass(frozen=True)
class Option:
    """One option: its TOML key (the flag is ``--`` + key with ``-`` for ``_``)."""

    name: str
    kind: str  # int | float | str | bool | path | ints | choice
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _opts(*options: Option) -> dict[str, Option]:
    return {o.name: o for o in options}


DATA_KEYS = _opts(
    Option("semantic", "path", help="semantic item embeddings (.npy/.npz/.parquet)"),
    Option("collaborative", "path", help="collaborative item embeddings (.npy/.npz/.parquet)"),
    Option("sem_ids", "path", help="ids of the semantic .npy rows (.npy or one id per line)"),
    Option("cf_ids", "path", help="ids of the collaborative .npy rows (.npy or one id per line)"),
    Option("interactions", "path", help="interaction log (.parquet/.csv/.tsv)"),
    Option("items", "path", help="item metadata with titles (.parquet/.csv/.tsv)"),
    Option("sem_users", "path", help="semantic user embeddings (rows = user ids)"),
    Option("sem_users_ids", "path", help="ids of the semantic user-embedding rows"),
    Option("cf_users", "path", help="collaborative user embeddings (rows = user ids)"),
    Option("cf_users_ids", "path", help="ids of the collaborative user-embedding rows"),
    Option("train", "path", help="train log for --split files"),
    Option("test", "path", help="test log for --split files"),
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
    Option("item_col", "str", "item_id", help="item column of the interaction log"),
    Option("time_col", "str", "timestamp", help="timestamp column of the interaction log"),
    Option("title_col", "str", "title", help="title column of the item metadata"),
    Option(
        "max_missing",
        "float",
        0.5,
        help="refuse a log when a larger share of its rows names items without embeddings",
    ),
    Option("quiet", "bool", False, help="no progress bars"),
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
    Option("alpha", "float", None, help="fixed ridge penalty (default: 5-fold CV)"),
    Option("rank", "int", 16, help="rank of the lowrank probe"),
    Option("max_epochs", "int", 200, help="maximum MLP epochs"),
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
        "choice",
        "all",
        ("directau", "carec", "darec", "sella", "all"),
        help="alignment strategy",
    ),
    Option("epochs", "int", None, help="training epochs (default: per strategy)"),
    Option("lr", "float", None, help="learning rate (default: per strategy)"),
    Option("dim", "int", 64, help="embedding dimension"),
    Option("export", "path", None, help="folder for the learned embeddings (.npz)"),
    # output
    Option("json", "path", None, help="write the JSON result here"),
)

#: smallest allowed value of integer options, checked for flags and config alike
MINIMUM: dict[str, int] = {
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

#: option groups shared by several commands
VIEW_OPTIONS = ("semantic", "collaborative", "sem_ids", "cf_ids", "metric", "drop_invalid")
#: the user-level commands score each view as defined (cosine / inner product): no --metric
RANKING_VIEWS = ("semantic", "collaborative", "sem_ids", "cf_ids", "drop_invalid")
LOG_OPTIONS = ("interactions", "user_col", "item_col", "time_col", "max_missing")
SPLIT_OPTIONS = ("split", "test_frac", "cutoff", "valid_frac", "train", "test")
#: the split options a probe uses (no validation part: train interactions = non-test rows)
PROBE_SPLIT = ("split", "test_frac", "cutoff", "train", "test")
USER_OPTIONS = ("sem_users", "sem_users_ids", "cf_users", "cf_users_ids")
RUN_OPTIONS = ("seed", "device", "json", "quiet")
PROBE_OPTIONS = ("shift", "direction", "alpha", "rank", "max_epochs", "tail_frac")
#: options naming files that a command writes (checked before any work)
OUTPUT_OPTIONS = ("json", "html", "markdown")
#: options left out of the provenance: the same inputs give the same JSON wherever it is written
NOT_PROVENANCE = (*OUTPUT_OPTIONS, "export", "quiet")

#: command -> the options it takes (from OPTIONS and DATA_KEYS), in the order of its --help
COMMANDS: dict[str, tuple[str, ...]] = {
    "overlap": VIEW_OPTIONS + RUN_OPTIONS + ("k", "sample") + LOG_OPTIONS,
    "hits": RANKING_VIEWS + LOG_OPTIONS + SPLIT_OPTIONS + USER_OPTIONS + RUN_OPTIONS
    + ("k", "n_boot"),
    "oracle": RANKING_VIEWS + LOG_OPTIONS + SPLIT_OPTIONS + USER_OPTIONS + RUN_OPTIONS
    + ("k", "n_boot", "rrf_depth"),
    "probe": VIEW_OPTIONS + RUN_OPTIONS + LOG_OPTIONS + PROBE_SPLIT + USER_OPTIONS
    + ("capacity", *PROBE_OPTIONS, "max_interactions"),
    "structure": VIEW_OPTIONS + ("seed", "json", "quiet")
    + ("max_dim", "permutations", "direction", "alpha", "items", "item_col", "title_col"),
    "explain": VIEW_OPTIONS + ("device", "json", "quiet")
    + ("neighbours", "items", "item_col", "title_col"),
    "report": VIEW_OPTIONS + RUN_OPTIONS + LOG_OPTIONS + SPLIT_OPTIONS + USER_OPTIONS
    + ("k", "sample", "n_boot", "items", "title_col", "rrf_depth")
    + (*PROBE_OPTIONS, "max_interactions")
    + ("max_dim", "permutations", "html", "markdown"),
    "gate": ("baseline", "rules", "allow_incomparable", "json"),
    "align": RANKING_VIEWS + LOG_OPTIONS + SPLIT_OPTIONS + USER_OPTIONS + RUN_OPTIONS
    + ("n_boot", "rrf_depth", "method", "epochs", "lr", "dim", "export"),
    "demo": ("quiet",),
}  # fmt: skip


def option(name: str) -> Option:
    """The declaration of an option or input file, by its config key."""
    return OPTIONS.get(name) or DATA_KEYS[name]


def parse_ints(value: Any, name: str = "k") -> tuple[int, ...]:
    """``10``, ``[10, 20]`` or ``"10,20"`` -> ``(10, 20)``; positive, sorted, unique."""
    if isinstance(value, bool):
        raise UsageError(f"--{name} {value!r}: give integers such as 10,20,50")
    if isinstance(value, int):
        items: list[Any] = [value]
    elif isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise UsageError(f"--{name} {value!r}: give integers such as 10,20,50")
    out: list[int] = []
    for item in items:
        try:
            if isinstance(item, bool) or (isinstance(item, float) and not item.is_integer()):
                raise ValueError
            number = int(item)
        except (TypeError, ValueError):
            raise UsageError(f"--{name} {value!r}: {item!r} is not an integer") from None
        if number < 1:
            raise UsageError(f"--{name} {value!r}: every value must be a positive integer")
        out.append(number)
    if not out:
        raise UsageError(f"--{name} is empty: give at least one integer")
    return tuple(sorted(set(out)))


def _check_type(opt: Option, value: Any, where: str) -> Any:
    kind = opt.kind
    bad = False
    if kind == "int":
        bad = isinstance(value, bool) or not isinstance(value, int)
    elif kind == "float":
        bad = isinstance(value, bool) or not isinstance(value, (int, float))
        value = value if bad else float(value)
    elif kind in ("str", "path"):
        bad = not isinstance(value, str)
    elif kind == "bool":
        bad = not isinstance(value, bool)
    elif kind == "choice":
        if not isinstance(value, str) or value not in opt.choices:
            raise ConfigError(
                f"{where}: {opt.name} = {value!r} is not one of {', '.join(opt.choices)}"
            )
    elif kind == "ints":
        try:
            value = parse_ints(value, opt.name)
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if bad:
        expected = {
            "int": "an integer",
            "float": "a number",
            "str": "a string",
            "path": "a path string",
            "bool": "true or false",
        }[kind]
        raise ConfigError(f"{where}: {opt.name} = {value!r} must be {expected}")
    return value


def _unknown(key: str, known: Iterable[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = (
        f"; did you mean {close[0]!r}?"
        if close
        else "; 'complement COMMAND --help' shows each option's key as [config: KEY]"
    )
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _misplaced(key: str, section: str, where: str) -> ConfigError | None:
    """A real key in the wrong section: say where it belongs."""
    head = f"config {where} [{section}]: unknown key {key!r}"
    if section != "data" and key in DATA_KEYS and key not in OPTIONS:
        return ConfigError(f"{head}: an input file; move it to [data]")
    if section == "data" and key in OPTIONS:
        return ConfigError(f"{head}: an option; move it to [options]")
    if section not in ("data", "options") and key in OPTIONS:
        takers = sorted(c for c, names in COMMANDS.items() if key in names)
        return ConfigError(
            f"{head}: not an option of {section}; move it to [options] or to a command that "
            f"takes it ({', '.join(takers) or 'none yet'})"
        )
    return None


@dataclass(frozen=True)
class Settings:
    """Resolved values for one command, with where each came from."""

    command: str
    values: Mapping[str, Any]
    sources: Mapping[str, str]
    config_path: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, tuple):
                return list(v)
            if v is None or isinstance(v, (str, int, float, bool)):
                return v
            return str(v)  # an in-memory input given to the Python API: its label

        return {
            "config_file": self.config_path,
            "values": {k: plain(v) for k, v in sorted(self.values.items())},
            "sources": dict(sorted(self.sources.items())),
        }


def load_config(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"config {path}: cannot be read ({exc.strerror})") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {path}: not valid TOML ({exc}); fix the file") from None
    where = str(path)
    known_sections = {"data", "options", *COMMANDS}
    for section, body in doc.items():
        if section not in known_sections:
            close = difflib.get_close_matches(section, sorted(known_sections), n=1)
            hint = (
                f"did you mean [{close[0]}]?"
                if close
                else f"known sections: {', '.join(sorted(known_sections))}"
            )
            raise ConfigError(f"config {where}: unknown section [{section}]; {hint}")
        if not isinstance(body, dict):
            raise ConfigError(f"config {where}: {section!r} must be a [section] of keys")
        if section == "data":
            catalogue: Mapping[str, Option] = DATA_KEYS
        elif section == "options":
            catalogue = OPTIONS
        else:
            catalogue = {n: OPTIONS.get(n) or DATA_KEYS[n] for n in COMMANDS[section]}
        for key, value in body.items():
            if key not in catalogue:
                raise _misplaced(key, section, where) or _unknown(
                    key, catalogue, f"config {where} [{section}]"
                )
            body[key] = _check_type(catalogue[key], value, f"config {where} [{section}]")
    return doc


def find_config(explicit: str | Path | None, cwd: Path | None = None) -> Path | None:
    if explicit is not None:
        p = Path(explicit)
        if p.is_dir():
            raise InputError(f"config {p}: is a folder, not a file; give the config file's path")
        if not p.is_file():
            raise InputError(f"config {p}: file not found; check the --config path")
        return p
    candidate = (cwd or Path.cwd()) / CONFIG_NAME
    return candidate if candidate.is_file() else None


def resolve(
    command: str,
    flags: Mapping[str, Any],
    *,
    config: str | Path | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge flags (``None`` = not given) over the config file over the defaults."""
    names = COMMANDS[command]
    path = find_config(config, cwd)
    doc = load_config(path) if path is not None else {}
    base = path.parent if path is not None else None
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in names:
        opt = OPTIONS.get(name) or DATA_KEYS[name]
        flag = flags.get(name)
        if flag is not None:
            if opt.kind == "ints":
                flag = parse_ints(flag, name)
            elif opt.kind == "choice" and flag not in opt.choices:
                raise UsageError(f"{opt.flag} {flag!r}: choose one of {', '.join(opt.choices)}")
            values[name], sources[name] = flag, "flag"
            continue
        found = False
        for section in (command, "data" if name in DATA_KEYS else "options"):
            body = doc.get(section, {})
            if name in body:
                value = body[name]
                if opt.kind == "path" and base is not None:
                    value = str(base / value)
                values[name], sources[name] = value, f"{path}[{section}]"
                found = True
                break
        if not found:
            values[name], sources[name] = opt.default, "default"
    for name, low in MINIMUM.items():
        if values.get(name) is not None and values[name] < low:
            where = "" if sources[name] in ("flag", "default") else f" (set in {sources[name]})"
            raise UsageError(
                f"{OPTIONS[name].flag} {values[name]}{where}: must be at least {low}; "
                "give a larger value"
            )
    return Settings(
        command=command,
        values=values,
        sources=sources,
        config_path=str(path) if path is not None else None,
    )
