"""Output sets: checked up front, written together, nothing lost on failure or signal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from complement.errors import InputError
from complement.io.writer import OutputSet, check_target, forget_written, written

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "fixtures" / "movielens-100k" / "complement.toml"


def test_refuses_devices_folders_and_inputs(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        check_target("json", "/dev/null")
    with pytest.raises(InputError, match="is a folder"):
        check_target("json", tmp_path)
    source = tmp_path / "sem.npy"
    source.write_bytes(b"x")
    with pytest.raises(InputError, match="one of this run's inputs"):
        check_target("json", source, inputs=[str(source)])
    link = tmp_path / "link.json"
    link.symlink_to(source)  # a link that resolves to an input is that input
    with pytest.raises(InputError, match="one of this run's inputs"):
        check_target("json", link, inputs=[str(source)])
    proc = tmp_path / "proc.json"
    proc.symlink_to("/proc/self/status")
    with pytest.raises(InputError, match="not a regular file|not writable"):
        check_target("json", proc)
    with pytest.raises(InputError, match="cannot go to standard output"):
        check_target("html", "-")
    check_target("json", "-", stdout_ok=True)
    with pytest.raises(InputError, match="does not exist"):
        check_target("json", tmp_path / "missing" / "x.json")


def test_two_outputs_of_one_run_never_share_a_file_or_standard_output(tmp_path):
    outputs = OutputSet()
    outputs.check("json", tmp_path / "out.json")
    link = tmp_path / "link.md"
    link.symlink_to(tmp_path / "out.json")  # another spelling of the same file
    for other in (link, tmp_path / "." / "out.json"):
        with pytest.raises(InputError, match="--json writes to this path too"):
            outputs.check("markdown", other)
    outputs.check("markdown", tmp_path / "out.md")
    outputs.check("json_stdout", "-", stdout_ok=True)
    with pytest.raises(InputError, match="writes to standard output too"):
        outputs.check("markdown", "-", stdout_ok=True)
    OutputSet().check("markdown", tmp_path / "out.json")  # each run (set) on its own


def test_long_names_and_modes(tmp_path):
    target = tmp_path / ("r" * 250)
    with OutputSet() as outputs:
        outputs.check("json", target)
        outputs.stage(target, b"{}")
        outputs.commit()
    assert target.read_bytes() == b"{}"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_the_set_is_replaced_together(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.html"
    a.write_text("old a")
    b.write_text("old b")
    with pytest.raises(RuntimeError), OutputSet() as outputs:
        outputs.stage(a, b"new a")
        raise RuntimeError("the HTML renderer failed")
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.html"]


def test_written_records_the_targets_renamed_into_place(tmp_path):
    forget_written()
    a, b = tmp_path / "a.json", tmp_path / "b.html"
    with OutputSet() as outputs:
        outputs.stage(a, b"a")
        outputs.stage(b, b"b")
        assert written() == ()  # staged is not written
        outputs.commit()
    assert written() == (str(a), str(b))
    with pytest.raises(RuntimeError), OutputSet() as outputs:
        outputs.stage(tmp_path / "c.json", b"c")
        raise RuntimeError("a renderer failed")
    assert written() == (str(a), str(b))  # a discarded set adds nothing
    forget_written()
    assert written() == ()


def _report_argv(tmp_path: Path) -> list[str]:
    return [
        sys.executable, "-m", "complement", "report", "--config", str(CONFIG), "--quiet",
        "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
        "--markdown", str(tmp_path / "r.md"),
    ]  # fmt: skip


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_leaves_the_report_set_unchanged(tmp_path, sig, code):
    for name in ("r.json", "r.html", "r.md"):
        (tmp_path / name).write_text(f"accepted {name}")
    proc = subprocess.Popen(
        _report_argv(tmp_path), cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    time.sleep(3.0)  # inside the work, before the outputs are written
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.strip().count("\n") == 0 and "no output was changed" in err
    for name in ("r.json", "r.html", "r.md"):
        assert (tmp_path / name).read_text() == f"accepted {name}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.md"]


def test_json_naming_an_input_is_refused_before_any_work(tmp_path):
    sem = REPO / "fixtures" / "movielens-100k" / "sem.npy"
    before = sem.read_bytes()
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "complement", "overlap", "--config", str(CONFIG), "--json",
         str(sem)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "one of this run's inputs" in out.stderr
    assert out.stderr.count("\n") == 1
    assert sem.read_bytes() == before
    assert time.monotonic() - started < 60


def test_json_to_stdout_is_a_pipeable_document():
    out = subprocess.run(
        [sys.executable, "-m", "complement", "overlap", "--config", str(CONFIG), "--k", "10",
         "--json", "-"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == "complement.overlap/1" and "10" in doc["k"]
    assert "neighbour agreement" in out.stderr  # the tables went to stderr


