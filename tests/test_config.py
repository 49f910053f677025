from __future__ import annotations

import re

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
        ("[optoins]\nseed = 1\n", "unknown section [optoins]"),
        ("[options]\nseed = 'one'\n", 'seed = "one" must be an integer'),
        ("[options]\nseed = true\n", "seed = true must be an integer"),  # TOML, not True
        ("[options]\nsample = 1e1\n", "sample = 10.0 must be an integer"),
        ("[options]\ndrop_invalid = 'yes'\n", 'drop_invalid = "yes" must be true or false'),
        ("[options]\nmetric = 'euclid'\n", 'metric = "euclid" is not one of'),
        ("[data]\nsemantic = ''\n", '[data]: semantic = "": empty path; give a file name or'),
        ("[gate]\nbaseline = ''\n", '[gate]: baseline = "": empty path'),
        (
            "[views]\nb = {path = 'b.npy', idz = 'i.npy'}\n",
            "view 'b': unknown key 'idz'; did you mean 'ids'?",
        ),
        (
            "[views]\nb = {path = 'b.npy', x = 1, pth = 2}\n",
            "unknown keys 'x', 'pth'; did you mean 'path'?",
        ),
        ("[views]\nb = {path = 'b.npy', flavour = 1}\n", "a view takes path and ids only"),
        ("[views]\nb = {ids = 'i.npy'}\n", "view 'b': no path; give b = {path = "),
        ("[views]\nb = ''\n", 'b = "": empty path'),
        ("[compare]\nview = 'a=a.npy'\n", 'view = "a=a.npy" must be a list of'),
        ("[options]\nview = [['a', 'a.npy', 'i.npy']]\n", "must be a list of"),
        ("[compare]\nview = ['a=a.npy:']\n", "[compare] view 'a=a.npy:': nothing after ':'"),
        (
            "[views]\na = 'a.npy'\n[options]\nview = ['b=b.npy']\n",
            "views given twice, in [views] and as view in [options]; give the views once",
        ),
        ("[options]\nmetric = 'euclid'\n", "not one of cosine, ip"),
        ("[options]\nk = [0]\n", "positive"),
        ("[data]\nsemantic = 3\n", "must be a path string"),
        ("[overlap]\nrank = 3\n", "unknown key 'rank'"),
        ("seed = = 1\n", "not valid TOML"),
    ],
)
def test_bad_config(tmp_path, text, message):
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve("overlap", {}, cwd=tmp_path)


def test_stdout_stays_stdout(tmp_path):
    """``json = "-"`` in a config is standard output, not a file ``-`` in the config's folder."""
    cfg = tmp_path / "sub" / "c.toml"
    cfg.parent.mkdir()
    cfg.write_text('[options]\njson = "-"\n[report]\nmarkdown = "-"\nhtml = "r.html"\n')
    assert resolve("overlap", {}, config=cfg)["json"] == "-"
    report = resolve("report", {}, config=cfg)
    assert report["json"] == report["markdown"] == "-"
    assert report["html"] == str(cfg.parent / "r.html")  # other paths: relative to the file
    gate = resolve("gate", {}, config=cfg)
    assert gate["json"] == "-" and gate.sources["json"].endswith("c.toml[options]")


def test_view_list_in_config(tmp_path):
    """``view = ["NAME=PATH[:IDS]", ...]`` in [compare] or [options]: paths relative to the
    config file (a path may hold ':' there too), flag > [compare] > [options]."""
    cfg = tmp_path / "cfg" / "c.toml"
    cfg.parent.mkdir()
    for name in ("a.npy", "b.npy", "ids.npy", "x:1.npy"):
        (cfg.parent / name).write_bytes(b"")
    cfg.write_text('[options]\nview = ["a=a.npy", "b=b.npy:ids.npy"]\n')
    s = resolve("compare", {}, config=cfg)
    base = str(cfg.parent)
    assert s["view"] == (("a", f"{base}/a.npy", None), ("b", f"{base}/b.npy", f"{base}/ids.npy"))
    assert s.sources["view"] == f"{cfg}[options]"
    cfg.write_text('[options]\nview = ["a=a.npy"]\n[compare]\nview = ["c=x:1.npy"]\n')
    s = resolve("compare", {}, config=cfg)
    assert s["view"] == (("c", f"{base}/x:1.npy", None),)
    assert s.sources["view"] == f"{cfg}[compare]"
    s = resolve("compare", {"view": ["d=d.npy"]}, config=cfg)
    assert s["view"] == (("d", "d.npy", None),) and s.sources["view"] == "flag"
    assert f"{base}/x:1.npy" in resolve("compare", {}, config=cfg).input_files()


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
    with pytest.raises(UsageError, match=re.escape("--view 'a=sem.npy:': nothing after ':'")):
        parse_views(["a=sem.npy:"])  # empty ids: refused, not read as "no ids"
    (tmp_path / "odd.npy:").write_bytes(b"")
    assert parse_views(["a=odd.npy:"]) == (("a", "odd.npy:", None),)  # a file of that name
    with pytest.raises(UsageError) as info:
        parse_views(["a=run_10:31.npy"])
    msg = str(info.value)
    assert "no file 'run_10:31.npy', and read as NAME=PATH:IDS no file 'run_10'" in msg, msg
    assert "[views] table" in msg and "\n" not in msg
    base = tmp_path / "cfg"
    base.mkdir()
    (base / "x:1.npy").write_bytes(b"")
    assert parse_views(["b=x:1.npy"], base=base) == (("b", str(base / "x:1.npy"), None),)
