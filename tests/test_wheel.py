"""The wheel: built from this checkout, installed in a fresh virtual environment, where
``complement demo`` runs on the MovieLens fixture it carries as package data.

No network: the wheel is installed with ``--no-deps`` and the dependencies already installed for
the tests are made visible to the new environment by a ``.pth`` file. That file lists the test
environment's site-packages as a plain path, so the ``.pth`` files there (among them the editable
install of this checkout) are not run; the test checks that ``complement`` is imported from the
new environment all the same.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE_FILES = {
    "complement.toml",
    "sem.npy",
    "cf.npy",
    "cf_seed1.npy",
    "item_ids.npy",
    "interactions.parquet",
    "items.parquet",
    "cf_users.npy",
    "user_ids.npy",
    "README.md",
    "LICENSE-GroupLens.md",
}
# what setuptools reads to build the wheel; copied so that the build leaves no build/ or stale
# build/lib in the checkout (and two test runs at once do not share one)
BUILD_INPUTS = ("pyproject.toml", "README.md", "complement")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=_clean_env())


def _clean_env() -> dict[str, str]:
    """The environment minus whatever could lead Python or complement back to the checkout."""
    env = dict(os.environ)
    for name in ("COMPLEMENT_FIXTURE", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"):
        env.pop(name, None)
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _build_wheel(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=_IGNORE)
        else:
            shutil.copy2(path, src / name)
    for path in REPO.glob("LICEN[CS]E*"):  # picked up by setuptools if the project gets one
        shutil.copy2(path, src / path.name)
    dist = tmp_path / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = _run([*cmd, "--no-index", "-w", str(dist), str(src)])
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    wheels = list(dist.glob("complement-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _site_packages(venv: Path) -> Path:
    found = list(venv.glob("lib/python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def test_wheel_ships_the_fixture_and_the_demo_runs_from_it(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        shipped = {
            Path(info.filename).name: info
            for info in zf.infolist()
            if info.filename.startswith("complement/fixtures/movielens-100k/")
        }
    assert set(shipped) == FIXTURE_FILES
    for name, info in shipped.items():  # real files with their bytes, not links
        assert info.file_size == (REPO / "complement/fixtures/movielens-100k" / name).stat().st_size

    # a fresh environment holding only the wheel; dependencies via a plain-path .pth
    venv = tmp_path / "venv"
    done = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert done.returncode == 0, done.stderr
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    done = _run([*install, "--no-index", str(wheel)])
    assert done.returncode == 0, f"pip install failed:\n{done.stdout}\n{done.stderr}"
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (_site_packages(venv) / "_complement_test_deps.pth").write_text("\n".join(deps) + "\n")

    work = tmp_path / "work"  # unrelated and empty: no checkout, no fixture, no config
    work.mkdir()
    probe = "import complement, complement.fixture as f\nprint(complement.__file__)\n"
    probe += "print(f.fixture_dir())"
    done = _run([str(python), "-c", probe], cwd=work)
    assert done.returncode == 0, done.stderr
    module_file, fixture = (Path(line).resolve() for line in done.stdout.splitlines())
    assert module_file.is_relative_to(venv.resolve()), f"complement imported from {module_file}"
    assert fixture.is_relative_to(venv.resolve()), f"fixture found in {fixture}"
    assert (fixture / "complement.toml").is_file(), fixture

    done = _run([str(venv / "bin" / "complement"), "demo", "--quiet"], cwd=work)
    assert done.returncode == 0, f"complement demo failed:\n{done.stdout}\n{done.stderr}"
    page = work / "complement-demo.html"
    assert page.is_file(), sorted(p.name for p in work.iterdir())
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Item-level neighbour agreement" in html
