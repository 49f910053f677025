"""Start-up: what ``import complement`` and ``complement --help`` load (each in a fresh process).

Speed targets live in benchmarks/startup.py; these tests only check that the heavy optional
modules stay out, which is what keeps start-up fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import pytest

HEAVY = ("torch", "scipy.stats", "matplotlib", "ray")

_REPORT = (
    "import json, sys\n"
    "roots = {'complement', 'torch', 'scipy', 'matplotlib', 'ray', 'numpy', 'polars', 'pydantic'}\n"
    "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in roots)))\n"
)


def modules_after(code: str) -> set[str]:
    """The modules of interest loaded after running ``code`` in a fresh interpreter."""
    script = code + "\n" + _REPORT
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


HELP = (
    "import contextlib, io, sys\n"
    "sys.argv = ['complement', '--help']\n"
    "from complement.cli.app import main\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
    "    main()\n"
)


@pytest.mark.parametrize("heavy", HEAVY)
def test_import_complement_leaves_heavy_modules_out(heavy):
    assert heavy not in modules_after("import complement")


@pytest.mark.parametrize("heavy", HEAVY)
def test_help_leaves_heavy_modules_out(heavy):
    assert heavy not in modules_after(HELP)


def test_help_imports_no_command_module():
    """The top-level --help lists commands from app.py's table; no command module is loaded."""
    loaded = modules_after(HELP)
    assert not {m for m in loaded if m.startswith("complement.cli.commands.")}
    assert "complement.cli.common" not in loaded


def test_a_command_help_loads_only_that_command():
    code = HELP.replace("['complement', '--help']", "['complement', 'overlap', '--help']")
    loaded = {m for m in modules_after(code) if m.startswith("complement.cli.commands.")}
    assert loaded == {"complement.cli.commands.overlap"}


def _npy_views(folder) -> tuple[str, str]:
    """Two small views as .npy files (items x dims), the only inputs of an npy-only run."""
    import numpy as np

    rng = np.random.default_rng(0)
    paths = []
    for name, dim in (("sem", 16), ("cf", 8)):
        path = folder / f"{name}.npy"
        np.save(path, rng.standard_normal((60, dim)).astype(np.float32))
        paths.append(str(path))
    return paths[0], paths[1]


#: what an npy-only run (no log, no tables) must not load: no table is read or written
NPY_ONLY_OUT = ("polars", *HEAVY)


@pytest.fixture(scope="module")
def npy_overlap_modules(tmp_path_factory) -> set[str]:
    """The modules loaded by an npy-only overlap through the pipeline (load_context,
    run_overlap, the JSON document), in a fresh interpreter."""
    folder = tmp_path_factory.mktemp("npy-only")
    sem, cf = _npy_views(folder)
    code = (
        "import json\n"
        "from pathlib import Path\n"
        "from complement.config import resolve\n"
        "from complement.pipeline import load_context, with_provenance\n"
        "from complement.pipeline.engine import backend_for\n"
        "from complement.pipeline.overlap import run_overlap\n"
        f"flags = {{'semantic': {sem!r}, 'collaborative': {cf!r}, 'k': '5'}}\n"
        f"settings = resolve('overlap', flags, cwd=Path({str(folder)!r}))\n"
        "backend = backend_for(settings)\n"
        "section = run_overlap(load_context(settings, backend))\n"
        "doc = with_provenance(section, settings, backend)\n"
        "assert doc['k']['5']['overlap'] >= 0, doc\n"
        "json.dumps(doc)\n"
    )
    return modules_after(code)


@pytest.mark.parametrize("heavy", NPY_ONLY_OUT)
def test_npy_only_overlap_loads_no_table_library(npy_overlap_modules, heavy):
    """An overlap of two .npy views reads and writes no table: polars stays out (its import
    alone is about 0.1 s), and so do the heavy optional modules."""
    assert "complement.pipeline.overlap" in npy_overlap_modules  # the run did happen
    assert heavy not in npy_overlap_modules


def test_npy_only_overlap_command_loads_no_table_library(tmp_path):
    """``complement overlap a.npy b.npy`` (the whole command, JSON written) loads no polars."""
    sem, cf = _npy_views(tmp_path)
    argv = ["complement", "overlap", sem, cf, "--k", "5", "--quiet"]
    argv += ["--json", str(tmp_path / "overlap.json")]
    code = f"import os\nos.chdir({str(tmp_path)!r})\n" + HELP.replace(
        "['complement', '--help']", repr(argv)
    )
    loaded = modules_after(code)
    assert "complement.cli.commands.overlap" in loaded
    assert (tmp_path / "overlap.json").is_file()  # the run did happen
    assert not set(NPY_ONLY_OUT) & loaded, sorted(set(NPY_ONLY_OUT) & loaded)


def test_a_command_parses_its_options_without_pydantic(tmp_path):
    """Typer as pinned (<0.29) checks option values with click's own types and leaves the rest
    to complement's parsing; typer 0.29 validates every value through pydantic instead, whose
    import and validators cost 0.15 s of every command."""
    sem, cf = _npy_views(tmp_path)
    argv = ["complement", "overlap", sem, cf, "--k", "5", "--seed", "3", "--quiet"]
    argv += ["--json", str(tmp_path / "overlap.json")]
    loaded = modules_after(HELP.replace("['complement', '--help']", repr(argv)))
    assert json.loads((tmp_path / "overlap.json").read_text())["seed"] == 3  # options parsed
    assert not {m for m in loaded if m.split(".")[0] == "pydantic"}


def test_oracle_on_the_fixture_loads_no_scipy(tmp_path):
    """The history means and the gated fusion's logistic function are computed without scipy
    (its import is 0.3-0.5 s of CPU): the whole ``oracle`` command (user-level scoring,
    fusion, the JSON written) loads none of it."""
    from complement.fixture import fixture_config

    out = tmp_path / "oracle.json"
    argv = ["complement", "oracle", "--config", str(fixture_config()), "--quiet"]
    argv += ["--n-boot", "50", "--json", str(out)]
    loaded = modules_after(HELP.replace("['complement', '--help']", repr(argv)))
    assert "complement.core.rerank" in loaded and out.is_file()  # the run did happen
    assert not {m for m in loaded if m.split(".")[0] == "scipy"}


DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg")


@pytest.mark.skipif(
    any(os.path.exists(p) for p in (*DRIVER_FILES, "/dev/kfd")), reason="a GPU driver is here"
)
def test_device_auto_without_a_driver_does_not_import_torch():
    code = (
        "from complement.retrieval import get_backend\nassert get_backend('auto').device == 'cpu'"
    )
    assert "torch" not in modules_after(code)


def test_available_asks_torch_only_when_a_driver_shows(monkeypatch):
    from complement.retrieval import gpu

    asked: list[str] = []

    class Cuda:
        def is_available(self) -> bool:
            asked.append("is_available")
            return True

        def device_count(self) -> int:
            return 1

    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=Cuda()))
    monkeypatch.setattr(os.path, "exists", lambda _path: False)
    assert gpu.available() is False and asked == []
    monkeypatch.setattr(os.path, "exists", lambda path: path == "/dev/nvidiactl")
    assert gpu.available() is True and asked == ["is_available"]
