"""Outputs are written atomically: an interrupted write leaves the previous file as it was and
no temporary file behind; a complete new output replaces the old one in one step."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from complement.errors import InputError
from complement.io import jsonio

OLD = {"schema": "old", "value": 1}
NEW = {"schema": "new", "value": list(range(2000))}  # large enough to be written in pieces


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture
def existing(tmp_path) -> Path:
    path = tmp_path / "out.json"
    jsonio.write_json(path, OLD)
    assert json.loads(path.read_text()) == OLD and not leftovers(tmp_path)
    return path


def test_complete_write_replaces_the_old_file(existing):
    jsonio.write_json(existing, NEW)
    assert json.loads(existing.read_text()) == NEW
    assert not leftovers(existing.parent)


def test_interrupt_before_rename_keeps_the_old_file(existing, monkeypatch):
    def interrupted(src, dst):
        assert Path(src).exists() and Path(src).parent == existing.parent  # the full temp file
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        jsonio.write_json(existing, NEW)
    assert json.loads(existing.read_text()) == OLD
    assert not leftovers(existing.parent)


class _HalfWriter:
    """A file handle that writes half of what it is given, then dies."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()
        return False

    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        raise KeyboardInterrupt

    def __getattr__(self, name):
        return getattr(self.handle, name)


def test_interrupt_midway_through_the_write_keeps_the_old_file(existing, monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _HalfWriter(real_fdopen(fd, *a, **k)))
    with pytest.raises(KeyboardInterrupt):
        jsonio.write_json(existing, NEW)
    assert json.loads(existing.read_text()) == OLD
    assert not leftovers(existing.parent)


def test_write_failure_is_one_clear_error_and_keeps_the_old_file(existing, monkeypatch):
    def no_space(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(InputError, match="cannot be written") as info:
        jsonio.write_json(existing, NEW)
    assert "\n" not in str(info.value) and "out.json" in str(info.value)
    assert json.loads(existing.read_text()) == OLD
    assert not leftovers(existing.parent)


def test_new_file_is_not_created_by_an_interrupted_write(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        jsonio.write_text_atomic(tmp_path / "fresh.html", "<html>" * 1000)
    assert list(tmp_path.iterdir()) == []


# --- through the CLI ---------------------------------------------------------------------


def _interrupt_replace(monkeypatch, exc: BaseException) -> None:
    def fail(*_args):
        raise exc

    monkeypatch.setattr(os, "replace", fail)


@pytest.mark.parametrize(
    ("exc", "code"),
    [(KeyboardInterrupt(), None), (OSError(errno.EIO, os.strerror(errno.EIO)), 2)],
    ids=["interrupted", "io-error"],
)
def test_overlap_json_survives_an_interrupted_rewrite(
    invoke, views_files, tmp_path, monkeypatch, exc, code
):
    sem, cf, _, _ = views_files
    path = tmp_path / "overlap.json"
    result, _ = invoke("overlap", sem, cf, "--k", "5", "--json", path, json_out=False)
    assert result.exit_code == 0, result.output
    before = path.read_bytes()
    _interrupt_replace(monkeypatch, exc)
    result, _ = invoke("overlap", sem, cf, "--k", "3,7", "--json", path, json_out=False)
    assert result.exit_code != 0
    if code is not None:  # an OS error is one clear line, not a traceback
        assert result.exit_code == code
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "cannot be written" in lines[0], result.output
    assert path.read_bytes() == before
    assert not leftovers(tmp_path)


#: a quick report: few permutations, epochs and components (the content does not matter here)
SMALL = ("--quiet", "--permutations", "2", "--max-epochs", "2", "--max-dim", "4", "--n-boot", "20")


@pytest.mark.parametrize("option", ["--json", "--html", "--markdown"])
def test_report_outputs_survive_an_interrupted_rewrite(
    invoke, views_files, tmp_path, monkeypatch, option
):
    sem, cf, _, _ = views_files
    path = tmp_path / f"report{option.replace('--', '.')}"
    result, _ = invoke("report", sem, cf, *SMALL, "--k", "5", option, path, json_out=False)
    assert result.exit_code == 0, result.output
    before = path.read_bytes()
    assert before
    _interrupt_replace(monkeypatch, KeyboardInterrupt())
    result, _ = invoke("report", sem, cf, *SMALL, "--k", "3", option, path, json_out=False)
    assert result.exit_code != 0
    assert path.read_bytes() == before
    assert not leftovers(tmp_path)
