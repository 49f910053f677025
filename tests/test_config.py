from __future__ import annotations

import pytest

import complement.cli.app  # noqa: F401  (declares the commands)
from complement.config import parse_ints, resolve
from complement.errors import ConfigError, InputError, UsageError


def write(tmp_path, text):
    p = tmp_path / "complement.toml"
    p.write_text(text)
    return p


def test_precedence_and_sources(tmp_path):
    write(
        tmp_path,
        '[data]\nsemantic = "s.npy"\n[options]\nk = [5, 10]\nseed = 3\n[overlap]\nseed = 4\n',
    )
    s = resolve("overlap", {"seed": None, "k": None}, cwd=tmp_path)
    assert s["k"] == (5, 10)
    assert s["seed"] == 4 and s.sources["seed"].endswith("[overlap]")
    assert s["semantic"] == str(tmp_path / "s.npy")  # relative to the config file
    s = resolve("overlap", {"seed": 9, "k": "20,10"}, cwd=tmp_path)
    assert s["seed"] == 9 and s.sources["seed"] == "flag" and s["k"] == (10, 20)
    assert resolve("overlap", {}, cwd=tmp_path / "..")["metric"] == "cosine"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[options]\nseeed = 1\n", "unknown key 'seeed'; did you mean 'seed'"),
        ("[optoins]\nseed = 1\n", r"unknown section \[optoins\]"),
        ("[options]\nseed = 'one'\n", "must be an integer"),
        ("[options]\nmetric = 'euclid'\n", "not one of cosine, ip"),
        ("[options]\nk = [0]\n", "positive"),
        ("[data]\nsemantic = 3\n", "must be a path string"),
        ("[overlap]\nrank = 3\n", "unknown key 'rank'"),
        ("seed = = 1\n", "not valid TOML"),
    ],
)
def test_bad_config(tmp_path, text, message):
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        resolve("overlap", {}, cwd=tmp_path)


def test_explicit_config_missing(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        resolve("overlap", {}, config=tmp_path / "nope.toml")


def test_parse_ints():
    assert parse_ints("50, 10,10") == (10, 50)
    for bad in ("a", "0", "-3", [1.5], True):
        with pytest.raises(UsageError):
            parse_ints(bad)


def test_view_paths_may_hold_a_colon(tmp_path, monkeypatch):
    from complement.values import parse_views

    monkeypatch.chdir(tmp_path)
    (tmp_path / "run_10:30.npy").write_bytes(b"")
    (tmp_path / "sem.npy").write_bytes(b"")
    (tmp_path / "ids.txt").write_text("1\n")
    assert parse_views(["a=run_10:30.npy"]) == (("a", "run_10:30.npy", None),)
    assert parse_views(["a=run_10:30.npy:ids.txt"]) == (("a", "run_10:30.npy", "ids.txt"),)
    assert parse_views(["a=sem.npy:ids.txt"]) == (("a", "sem.npy", "ids.txt"),)
    assert parse_views(["a=sem.npy:gone.txt"]) == (("a", "sem.npy", "gone.txt"),)  # loader's
    assert parse_views(["a=gone.npy"]) == (("a", "gone.npy", None),)  # the loader's to refuse
    with pytest.raises(UsageError) as info:
        parse_views(["a=run_10:31.npy"])
    msg = str(info.value)
    assert "no file 'run_10:31.npy', and read as NAME=PATH:IDS no file 'run_10'" in msg, msg
    assert "[views] table" in msg and "\n" not in msg
    base = tmp_path / "cfg"
    base.mkdir()
    (base / "x:1.npy").write_bytes(b"")
    assert parse_views(["b=x:1.npy"], base=base) == (("b", str(base / "x:1.npy"), None),)
